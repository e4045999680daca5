import { defineEventType, definePreset } from '@eventlog/core';
import { z } from 'zod';

/**
 * The topics of UniFi Access's system log, as sent in `topic`.
 *
 * @example
 * ```ts
 * import { UNIFI_TOPICS } from '@eventlog/http/unifi-access';
 * UNIFI_TOPICS.includes('door_openings'); // true
 * ```
 */
export const UNIFI_TOPICS = ['all', 'door_openings', 'critical', 'updates', 'device_events', 'admin_activity', 'visitor'] as const;

/** One of {@link UNIFI_TOPICS}. */
export type UnifiTopic = (typeof UNIFI_TOPICS)[number];

/**
 * The permission key every endpoint of the profile requires from callers that list permissions.
 *
 * @example
 * ```ts
 * import { UNIFI_LOG_PERMISSION, unifiAccessTokens } from '@eventlog/http/unifi-access';
 * const authenticate = unifiAccessTokens([{ token: 'secret', permissions: [UNIFI_LOG_PERMISSION] }]);
 * ```
 */
export const UNIFI_LOG_PERMISSION = 'view:system_log';

const TEXT = z.string().max(255);
const targetSchema = z.object({
  type: z.string().max(64),
  id: z.string().max(255),
  display_name: TEXT.optional(),
  alternate_id: TEXT.optional(),
  alternate_name: TEXT.optional(),
});

/**
 * The `data` payload of UniFi Access events: the actor's extra identity fields, the
 * authentication (credential provider and issuer), the list of targets, a reason and a tag.
 * Actor id/type/display name, message, result and time live in the canonical event fields.
 *
 * @example
 * ```ts
 * import { unifiEventDataSchema } from '@eventlog/http/unifi-access';
 * unifiEventDataSchema.parse({ authentication: { credential_provider: 'NFC', issuer: '6FC02554' } });
 * ```
 */
export const unifiEventDataSchema = z
  .object({
    actor: z
      .object({
        alternate_id: TEXT.optional(),
        alternate_name: TEXT.optional(),
        avatar: z.string().max(1024).optional(),
        sso_picture: z.string().max(1024).optional(),
      })
      .optional(),
    authentication: z.object({ credential_provider: z.string().max(64), issuer: TEXT.optional() }).optional(),
    targets: z.array(targetSchema).max(50).optional(),
    reason: z.string().max(1000).optional(),
    tag: z.string().max(64).optional(),
  })
  .optional();

// Event types this preset registers, each stored under its topic as category. Hosts add others
// with defineEventType(name, unifiEventDataSchema, { category: '<topic>' }).
const unifiTypes = [
  defineEventType('access.door.unlock', unifiEventDataSchema, { category: 'door_openings' }),
  defineEventType('access.device.offline', unifiEventDataSchema, { category: 'critical', severity: 'critical' }),
  defineEventType('access.device.restart', unifiEventDataSchema, { category: 'critical', severity: 'warning' }),
  defineEventType('access.device.delete', unifiEventDataSchema, { category: 'critical', severity: 'warning' }),
  defineEventType('access.device.detected', unifiEventDataSchema, { category: 'critical' }),
  defineEventType('access.device.upgrade', unifiEventDataSchema, { category: 'updates' }),
  defineEventType('access.device.online', unifiEventDataSchema, { category: 'device_events' }),
  defineEventType('access.device.update', unifiEventDataSchema, { category: 'device_events' }),
  defineEventType('access.policy.sync', unifiEventDataSchema, { category: 'device_events' }),
  defineEventType('access.schedule.unlock.activate', unifiEventDataSchema, { category: 'device_events' }),
  defineEventType('access.schedule.unlock.deactivate', unifiEventDataSchema, { category: 'device_events' }),
  defineEventType('access.admin.policy_update', unifiEventDataSchema, { category: 'admin_activity' }),
  defineEventType('access.admin.settings_change', unifiEventDataSchema, { category: 'admin_activity' }),
  defineEventType('access.admin.user_update', unifiEventDataSchema, { category: 'admin_activity' }),
  defineEventType('access.visitor.create', unifiEventDataSchema, { category: 'visitor' }),
  defineEventType('access.visitor.update', unifiEventDataSchema, { category: 'visitor' }),
  defineEventType('access.visitor.delete', unifiEventDataSchema, { category: 'visitor' }),
] as const;

/**
 * Event types of UniFi Access's system log, each filed under its topic (the event's category).
 * Record the operator as `actor` (`{ id, type, name }`), the display message as `message`, the
 * result (`ACCESS`, `BLOCKED`, …) as `outcome`, and authentication, targets, reason and tag in `data`.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { unifiAccessPreset } from '@eventlog/http/unifi-access';
 *
 * const log = createEventLog({ store: createSqliteStore(), presets: [unifiAccessPreset] });
 * await log.record({
 *   type: 'access.door.unlock',
 *   actor: { id: '3e1f196e-c97b-4748-aecb-eab5e9c251b2', type: 'user', name: 'Ada' },
 *   message: 'Access Granted (Remote)',
 *   outcome: 'ACCESS',
 *   data: {
 *     authentication: { credential_provider: 'REMOTE_THROUGH_UAH', issuer: '' },
 *     targets: [{ type: 'door', id: 'e4978b83-203d-4015-97df-b86efc91cb0c', display_name: 'Door 3855' }],
 *     tag: 'access',
 *   },
 * });
 * ```
 */
export const unifiAccessPreset = definePreset({ name: 'unifiAccess', types: unifiTypes });
