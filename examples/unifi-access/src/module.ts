/**
 * The UniFi Access example as a module: the system-log API with a Bearer token from the
 * environment, a week of door openings (with a PIN being guessed at the server room), device,
 * update, admin and visitor events across three sites, activity resources (clips and thumbnails),
 * live door traffic and the banner.
 */
import type { EventInput } from '@eventlog/core';
import { ascendingTimes, type ExampleModule, env, type Random, recordInChunks, shellQuote } from '@eventlog/example-shared';
import { UNIFI_LOG_PERMISSION, unifiAccess, unifiAccessPreset, unifiAccessTokens } from '@eventlog/http';

/** Demo credentials; replace through the environment. */
export function unifiCredentials() {
  return { token: env('UNIFI_API_TOKEN', 'demo-unifi-token') };
}

const SITES = [
  { id: 'hq', building: { id: 'e622671e-89a5-11ee-8897-76acb95e28d5', name: 'UDM Pro' } },
  { id: 'branch-1', building: { id: '5b0d1c2e-0c4f-4d7e-9a51-7b1e0f3c2a10', name: 'Branch Office' } },
  { id: 'warehouse', building: { id: '9f3e2d1c-7a6b-4c5d-8e9f-0a1b2c3d4e5f', name: 'Warehouse' } },
];
const HUBS = [
  {
    id: '7483c2773855',
    name: 'UA-HUB-3855',
    door: { id: 'e4978b83-203d-4015-97df-b86efc91cb0c', name: 'Door 3855' },
    site: SITES[0]!,
    floor: '1F',
  },
  {
    id: '7483c27739a1',
    name: 'UA-HUB-39A1',
    door: { id: '2c9d8e7f-1a2b-4c3d-9e8f-7a6b5c4d3e2f', name: 'Server Room' },
    site: SITES[0]!,
    floor: '2F',
  },
  {
    id: '7483c2774b02',
    name: 'UA-HUB-4B02',
    door: { id: '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d', name: 'Front Door' },
    site: SITES[1]!,
    floor: '1F',
  },
  {
    id: '7483c2775c13',
    name: 'UA-HUB-5C13',
    door: { id: '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b', name: 'Loading Gate' },
    site: SITES[2]!,
    floor: 'G',
  },
];
type Hub = (typeof HUBS)[number];
const PEOPLE = [
  { id: '3e1f196e-c97b-4748-aecb-eab5e9c251b2', name: 'Ada Lovelace' },
  { id: 'b7c6d5e4-f3a2-4b1c-8d9e-0f1a2b3c4d5e', name: 'Grace Hopper' },
  { id: 'c1d2e3f4-a5b6-4c7d-8e9f-a0b1c2d3e4f5', name: 'Alan Turing' },
  { id: 'd4e5f6a7-b8c9-4dab-9cbd-e0f1a2b3c4d5', name: 'Katherine Johnson' },
  { id: 'e7f8a9b0-c1d2-4e3f-a4b5-c6d7e8f9a0b1', name: 'Linus Torvalds' },
];
const ADMINS = [{ id: 'f0e1d2c3-b4a5-4968-8776-655443322110', name: 'Site Admin' }];
const PROVIDERS = ['NFC', 'PIN_CODE', 'MOBILE_TAP', 'REMOTE_THROUGH_UAH', 'FACE'] as const;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function targets(hub: Hub) {
  return [
    { type: 'UAH', id: hub.id, display_name: hub.name },
    { type: 'device_config', id: 'door_entry_method', display_name: 'entry/exit' },
    { type: 'door', id: hub.door.id, display_name: hub.door.name },
    { type: 'floor', id: `${hub.site.id}-${hub.floor}`, display_name: hub.floor },
    { type: 'building', id: hub.site.building.id, display_name: hub.site.building.name },
  ];
}

let clips = 0;

function unlock(random: Random, time: number, hub = random.pick(HUBS), granted = random.chance(0.88)): EventInput {
  const person = random.pick(PEOPLE);
  const provider = random.pick(PROVIDERS);
  const withClip = random.chance(0.1);
  // An activity resource (a clip) on some openings; its id encodes the hub and the time it was taken.
  const clip = withClip ? `${hub.id}-${Math.floor(time / 1000)}-${clips++}` : null;
  return {
    type: 'access.door.unlock',
    time,
    tenantId: hub.site.id,
    actor: granted ? { id: person.id, type: 'user', name: person.name } : { id: '', type: 'user', name: 'N/A' },
    message: granted
      ? `Access Granted (${provider === 'REMOTE_THROUGH_UAH' ? 'Remote' : provider})`
      : `Access Denied / Unknown (${provider})`,
    outcome: granted ? 'ACCESS' : 'BLOCKED',
    data: {
      authentication: {
        credential_provider: provider,
        issuer: provider === 'NFC' ? random.pick(['6FC02554', '9A1B2C3D', '5E6F7A8B']) : '',
      },
      targets: [...targets(hub), ...(clip ? [{ type: 'activities_resource', id: clip, display_name: 'Resource' }] : [])],
      tag: 'access',
    },
  };
}

function other(random: Random, time: number): EventInput {
  const hub = random.pick(HUBS);
  const admin = random.pick(ADMINS);
  const device = { id: hub.id, type: 'device', name: hub.name };
  const base = { time, tenantId: hub.site.id, data: { targets: targets(hub).slice(0, 1), tag: 'system' } };
  switch (random.int(0, 7)) {
    case 0:
      return { ...base, type: 'access.device.offline', actor: device, message: `${hub.name} went offline`, outcome: 'OFFLINE' };
    case 1:
      return { ...base, type: 'access.device.restart', actor: device, message: `${hub.name} restarted`, outcome: 'SUCCESS' };
    case 2:
      return { ...base, type: 'access.device.upgrade', actor: device, message: `${hub.name} updated to 1.24.6`, outcome: 'SUCCESS' };
    case 3:
      return { ...base, type: 'access.device.online', actor: device, message: `${hub.name} is online`, outcome: 'ONLINE' };
    case 4:
      return { ...base, type: 'access.policy.sync', actor: device, message: 'Access policies synchronized', outcome: 'SUCCESS' };
    case 5:
      return {
        ...base,
        type: random.pick(['access.admin.policy_update', 'access.admin.settings_change', 'access.admin.user_update'] as const),
        actor: { id: admin.id, type: 'admin', name: admin.name },
        message: random.pick([
          'Updated access policy "Office hours"',
          'Changed door auto-lock to 5 s',
          'Added user Grace Hopper to group Engineering',
        ]),
        outcome: 'SUCCESS',
      };
    case 6:
      return {
        ...base,
        type: random.pick(['access.visitor.create', 'access.visitor.update', 'access.visitor.delete'] as const),
        actor: { id: admin.id, type: 'admin', name: admin.name },
        message: random.pick(['Visitor Jane Doe invited', 'Visitor pass extended', 'Visitor Bob Smith removed']),
        outcome: 'SUCCESS',
      };
    default:
      return {
        ...base,
        type: random.pick(['access.schedule.unlock.activate', 'access.schedule.unlock.deactivate'] as const),
        actor: { id: 'system', type: 'system', name: 'System' },
        message: 'Unlock schedule "Lobby business hours"',
        outcome: 'SUCCESS',
      };
  }
}

function* rows(random: Random, size: number, now: number): Generator<EventInput> {
  for (const time of ascendingTimes(size, () => now - random.int(MINUTE, 20 * DAY))) {
    yield random.chance(0.7) ? unlock(random, time) : other(random, time);
  }
  // The document's actor (Ada Lovelace) opening Door 3855 during the last hour.
  for (let i = 0; i < 5; i++) yield unlock(random, now - (i + 1) * 9 * MINUTE, HUBS[0], true);
  const ada = PEOPLE[0]!;
  for (let i = 0; i < 5; i++)
    yield { ...unlock(random, now - 50 * MINUTE - i * MINUTE, HUBS[0], true), actor: { id: ada.id, type: 'user', name: ada.name } };
  // Someone trying PIN codes at the server room: a burst of blocked attempts.
  for (let i = 0; i < 12; i++) {
    const event = unlock(random, now - 2 * HOUR + i * 15_000, HUBS[1], false);
    yield {
      ...event,
      message: 'Access Denied / Unknown (PIN_CODE)',
      data: { ...(event.data as object), authentication: { credential_provider: 'PIN_CODE', issuer: '' } },
    };
  }
}

// A 1×1 transparent PNG, served for avatars, captures and thumbnails.
const PIXEL = Uint8Array.from(
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64'),
);

/** The UniFi Access example module. */
export const unifiAccessExample: ExampleModule = {
  name: 'unifi-access',
  presets: [unifiAccessPreset],
  profiles() {
    const { token } = unifiCredentials();
    return [
      unifiAccess({
        authenticate: unifiAccessTokens([{ token, name: 'demo integration', permissions: [UNIFI_LOG_PERMISSION] }]),
        resource: (id) => {
          if (!/^[0-9a-f]{12}-\d+-\d+$/.test(id)) return null;
          const [, seconds] = id.split('-');
          const created = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
          return {
            video_record: `/activities_resource/video/${seconds}_${id}.mp4`,
            video_record_thumbnail: `/activities_resource/thumbnail/${seconds}_${id}.jpg`,
            created_at: created,
            updated_at: created,
          };
        },
        staticResource: ({ path }) =>
          /^(avatar|capture|activities_resource)\//.test(path) ? new Response(PIXEL, { headers: { 'Content-Type': 'image/png' } }) : null,
      }),
    ];
  },
  seed: ({ log, size, now, random }) => recordInChunks(log, rows(random, size, now)),
  async live({ log, random }) {
    const now = Date.now();
    await log.recordMany([unlock(random, now), ...(random.chance(0.2) ? [other(random, now)] : [])]);
  },
  banner(base) {
    const { token } = unifiCredentials();
    const auth = `-H ${shellQuote(`Authorization: Bearer ${token}`)} -H 'content-type: application/json'`;
    const until = Math.floor(Date.now() / 1000);
    const since = until - 7 * 86_400;
    const body = (extra: Record<string, unknown>) => shellQuote(JSON.stringify({ topic: 'door_openings', since, until, ...extra }));
    return [
      `UniFi Access system log (/api/v1/developer/system/…): UNIFI_API_TOKEN=${token}`,
      `  curl ${auth} ${shellQuote(`${base}/api/v1/developer/system/logs?page_size=25&page_num=1`)} --data ${body({})}`,
      `  curl ${auth} ${shellQuote(`${base}/api/v1/developer/system/logs?page_size=10&page_num=1`)} --data ${body({ actor_id: '3e1f196e-c97b-4748-aecb-eab5e9c251b2' })}`,
      `  curl ${auth} ${base}/api/v1/developer/system/logs --data '{"topic":"critical"}'   # also updates, device_events, admin_activity, visitor, all`,
      `  curl ${auth} -o door-openings.csv ${base}/api/v1/developer/system/logs/export --data ${body({ timezone: 'America/New_York' })}`,
      `  curl ${auth} ${base}/api/v1/developer/system/logs/resource/<id of an activities_resource target>`,
      '',
    ];
  },
};
