import type { StoredEvent } from '@eventlog/core';

interface DataShape {
  actor?: { alternate_id?: string; alternate_name?: string; avatar?: string; sso_picture?: string };
  authentication?: { credential_provider?: string; issuer?: string };
  targets?: { type?: string; id?: string; display_name?: string; alternate_id?: string; alternate_name?: string }[];
  reason?: string;
  tag?: string;
}

function dataOf(event: StoredEvent): DataShape {
  return event.data && typeof event.data === 'object' ? (event.data as DataShape) : {};
}

/** One event in the product's Elasticsearch-like hit shape. @internal */
export function toHit(event: StoredEvent) {
  const data = dataOf(event);
  const actor: Record<string, string> = {
    alternate_id: data.actor?.alternate_id ?? '',
    alternate_name: data.actor?.alternate_name ?? '',
    display_name: event.actor.name ?? '',
    id: event.actor.id ?? '',
    type: event.actor.type ?? '',
  };
  if (data.actor?.avatar !== undefined) actor.avatar = data.actor.avatar;
  if (data.actor?.sso_picture !== undefined) actor.sso_picture = data.actor.sso_picture;
  const targets = data.targets
    ? data.targets
    : event.target.id !== null || event.target.name !== null
      ? [{ type: event.target.type ?? '', id: event.target.id ?? '', display_name: event.target.name ?? '' }]
      : [];
  return {
    '@timestamp': new Date(event.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    _id: String(event.id),
    _source: {
      actor: actor as { alternate_id: string; alternate_name: string; display_name: string; id: string; type: string },
      // Optional in the product; always present here so that clients reading its fields never fail.
      authentication: {
        credential_provider: data.authentication?.credential_provider ?? '',
        issuer: data.authentication?.issuer ?? '',
      },
      event: {
        display_message: event.message ?? '',
        published: event.time,
        reason: data.reason ?? '',
        result: event.outcome ?? '',
        type: event.type,
      },
      target: targets.map((t) => ({
        alternate_id: t.alternate_id ?? '',
        alternate_name: t.alternate_name ?? '',
        display_name: t.display_name ?? '',
        id: t.id ?? '',
        type: t.type ?? '',
      })),
    },
    tag: data.tag ?? event.type.split('.')[0] ?? '',
  };
}
