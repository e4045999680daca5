import { defineEventType, definePreset, type RetentionPolicy } from '@eventlog/core';
import { z } from 'zod';

/**
 * The Stream Events categories of MediaCP, as sent in `category=` (besides `all`).
 *
 * @example
 * ```ts
 * import { MEDIACP_CATEGORIES } from '@eventlog/http/mediacp';
 * MEDIACP_CATEGORIES.includes('dj'); // true
 * ```
 */
export const MEDIACP_CATEGORIES = ['service', 'mount', 'dj', 'source', 'autodj'] as const;

/** One of {@link MEDIACP_CATEGORIES}. */
export type MediaCpCategory = (typeof MEDIACP_CATEGORIES)[number];

/** @internal */
export const CATEGORY_LABELS: Record<MediaCpCategory, string> = {
  service: 'Service',
  mount: 'Mount',
  dj: 'DJ',
  source: 'Source',
  autodj: 'AutoDJ',
};

/** A MediaCP event type as sent in `event_type=` and returned in `event_type`, e.g. `dj.connect`. */
export type MediaCpEventType =
  | 'service.start'
  | 'service.stop'
  | 'service.restart'
  | 'service.suspend'
  | 'service.unsuspend'
  | 'service.remove'
  | 'service.config_update'
  | 'service.title_update'
  | 'system.bitrate_warning'
  | 'system.suspend'
  | 'system.stop'
  | 'source.start'
  | 'source.stop'
  | 'source.restart'
  | 'dj.connect'
  | 'dj.disconnect'
  | 'dj.on_air'
  | 'dj.kicked'
  | 'autodj.on_air'
  | 'mount.connect'
  | 'mount.disconnect';

// Wire event type, category, label. The stored type is `mediacp.<wire type>`.
const EVENTS = [
  ['service.start', 'service', 'Service Start'],
  ['service.stop', 'service', 'Service Stop'],
  ['service.restart', 'service', 'Service Restart'],
  ['service.suspend', 'service', 'Service Suspend'],
  ['service.unsuspend', 'service', 'Service Unsuspend'],
  ['service.remove', 'service', 'Service Remove'],
  ['service.config_update', 'service', 'Config Update'],
  ['service.title_update', 'service', 'Song Title Update'],
  ['system.bitrate_warning', 'service', 'Bitrate Abuse Warning'],
  ['system.suspend', 'service', 'Automated Suspension'],
  ['system.stop', 'service', 'Automated Stop'],
  ['source.start', 'source', 'Source Start'],
  ['source.stop', 'source', 'Source Stop'],
  ['source.restart', 'source', 'Source Restart'],
  ['dj.connect', 'dj', 'DJ Connect'],
  ['dj.disconnect', 'dj', 'DJ Disconnect'],
  ['dj.on_air', 'dj', 'DJ On Air'],
  ['dj.kicked', 'dj', 'DJ Kicked'],
  ['autodj.on_air', 'autodj', 'AutoDJ On Air'],
  ['mount.connect', 'mount', 'Mount Connect'],
  ['mount.disconnect', 'mount', 'Mount Disconnect'],
] as const satisfies readonly (readonly [MediaCpEventType, MediaCpCategory, string])[];

/** @internal */
export const TYPE_PREFIX = 'mediacp.';
/** @internal */
export const WIRE_TYPES: readonly string[] = EVENTS.map((e) => e[0]);
/** @internal */
export const STORED_TYPES: string[] = EVENTS.map((e) => `${TYPE_PREFIX}${e[0]}`);
/** @internal */
export const LABELS = new Map<string, string>(EVENTS.map((e) => [`${TYPE_PREFIX}${e[0]}`, e[2]]));

/**
 * The `data` payload of MediaCP events: optional, with the facts the panel shows (takeover flag,
 * mount, reason, changed settings, title); other keys are kept as sent.
 *
 * @example
 * ```ts
 * import { mediaCpEventDataSchema } from '@eventlog/http/mediacp';
 * mediaCpEventDataSchema.parse({ takeover: true, mount: '/live' });
 * ```
 */
export const mediaCpEventDataSchema = z
  .looseObject({
    takeover: z.boolean().optional(),
    mount: z.string().max(255).optional(),
    reason: z.string().max(1000).optional(),
    title: z.string().max(1000).optional(),
    changes: z.record(z.string(), z.unknown()).optional(),
  })
  .optional();

const mediaCpTypes = EVENTS.map(([name, category]) =>
  defineEventType(`${TYPE_PREFIX}${name}` as `mediacp.${MediaCpEventType}`, mediaCpEventDataSchema, { category }),
);

/**
 * Event types, dimensions and metrics of MediaCP Stream Events. Record an event with the service as
 * `target` (`{ type: 'service', id, name }`), the service owner's user id as `tenantId`, the user,
 * DJ or `system` as `actor`, the DJ's source IP as `ip`, and the customer's name as the
 * `customer_name` dimension.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { mediaCpPreset } from '@eventlog/http/mediacp';
 *
 * const log = createEventLog({ store: createSqliteStore(), presets: [mediaCpPreset], retention: { maxAgeDays: 30 } });
 * await log.record({
 *   type: 'mediacp.dj.connect',
 *   actor: { type: 'dj', id: 'dj-7', name: 'DJ Nova' },
 *   target: { type: 'service', id: '12', name: 'Radio One' },
 *   tenantId: '40',
 *   ip: '203.0.113.9',
 *   message: 'DJ Nova connected',
 *   dimensions: { customer_name: 'Acme FM' },
 *   data: { takeover: true },
 * });
 * ```
 */
export const mediaCpPreset = definePreset({
  name: 'mediaCp',
  types: mediaCpTypes,
  dimensions: [{ name: 'customer_name' }],
});

/**
 * MediaCP's own retention, "stream events are kept for 30 days", as a retention policy: put it in
 * `retention.policies` and every MediaCP event older than 30 days is deleted by
 * `log.startMaintenance()` (or `log.jobs.runPolicy('mediacp-stream-events')`), as a job.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { mediaCpPreset, mediaCpRetentionPolicy } from '@eventlog/http/mediacp';
 * const log = createEventLog({ store: createSqliteStore(), presets: [mediaCpPreset], retention: { policies: [mediaCpRetentionPolicy] } });
 * log.startMaintenance();
 * ```
 */
export const mediaCpRetentionPolicy: RetentionPolicy = Object.freeze({
  name: 'mediacp-stream-events',
  match: Object.freeze({ type: mediaCpTypes.map((t) => t.name) }),
  maxAgeDays: 30,
});

/** The wire event type (`dj.connect`) of a stored type. @internal */
export function wireType(type: string): string {
  return type.startsWith(TYPE_PREFIX) ? type.slice(TYPE_PREFIX.length) : type;
}

/** The label of a category (`DJ`, `AutoDJ`). @internal */
export function categoryLabel(category: string | null): string {
  return category && category in CATEGORY_LABELS ? CATEGORY_LABELS[category as MediaCpCategory] : (category ?? '');
}
