import { defineEventType, definePreset } from '@eventlog/core';
import { z } from 'zod';

const payload = z.record(z.string(), z.unknown()).optional();
const outputSchema = z
  .object({
    bitrate: z.union([z.string(), z.number()]).optional(),
    resolution: z.string().optional(),
    fps: z.union([z.string(), z.number()]).optional(),
    codec: z.string().optional(),
    audio_codec: z.string().optional(),
    buffer_health: z.string().optional(),
  })
  .catchall(z.union([z.string(), z.number(), z.boolean()]));

/**
 * Event type names of the XUI.ONE preset, by log kind.
 *
 * @example
 * ```ts
 * import { XUI_ONE_TYPES } from '@eventlog/http/xui-one';
 * XUI_ONE_TYPES.connectionOpen; // 'xui.connection.open'
 * ```
 */
export const XUI_ONE_TYPES = {
  activity: 'xui.activity',
  connectionOpen: 'xui.connection.open',
  connectionClose: 'xui.connection.close',
  credit: 'xui.credit',
  client: 'xui.client',
  user: 'xui.user',
  streamError: 'xui.stream.error',
  streamOutput: 'xui.stream.output',
  system: 'xui.system',
  login: 'xui.login',
  restream: 'xui.restream',
  mag: 'xui.mag',
} as const;

/**
 * Event types and metrics behind XUI.ONE's log actions. How each action reads an event:
 *
 * | type | action | fields |
 * |---|---|---|
 * | `xui.activity` | activity_logs | actor id/name = user, `action`, message = details, `ip` |
 * | `xui.connection.open` (a session) | live_connections | actor = line (id, name = username), target = stream, `ip`, `userAgent` |
 * | `xui.credit` | credit_logs | actor = user, `action`, message = description, metrics `amount`, `balance_after` |
 * | `xui.client` | client_logs | actor = line, `ip`, `userAgent`, data.connection_type |
 * | `xui.user` | user_logs | like activity |
 * | `xui.stream.error` | stream_errors | target = stream, action = error type, message, `durationMs` |
 * | `xui.stream.output` | watch_output | target = stream, data = bitrate, resolution, fps, codec, audio_codec, buffer_health |
 * | `xui.system` | system_logs | `severity`, `action`, message |
 * | `xui.login` | login_logs | actor name = username, `ip`, outcome `success`/`failure`, message = failure reason |
 * | `xui.restream` | restream_logs | actor = user, target = stream, `ip`, `action` |
 * | `xui.mag` | mag_events | target = MAG (id, name = MAC), action = event type, message = details, `ip` |
 *
 * Set `tenantId` to the owning reseller's id so reseller keys see only their rows.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { xuiOnePreset } from '@eventlog/http/xui-one';
 * const log = createEventLog({ store: createSqliteStore(), presets: [xuiOnePreset] });
 * await log.record({ type: 'xui.mag', target: { type: 'mag', id: '202', name: '00:1A:79:00:00:01' }, action: 'channel_change', message: 'Changed to channel CNN HD' });
 * ```
 */
export const xuiOnePreset = definePreset({
  name: 'xuiOne',
  types: [
    defineEventType(XUI_ONE_TYPES.activity, payload, { category: 'activity', description: 'An admin or user action in the panel.' }),
    defineEventType(XUI_ONE_TYPES.connectionOpen, payload, {
      category: 'connection',
      description: 'A viewer connected to a stream (opens a session).',
    }),
    defineEventType(XUI_ONE_TYPES.connectionClose, payload, { category: 'connection', description: 'A viewer disconnected.' }),
    defineEventType(XUI_ONE_TYPES.credit, payload, { category: 'credit', description: 'A credit transaction.' }),
    defineEventType(XUI_ONE_TYPES.client, z.object({ connection_type: z.string().optional() }).catchall(z.unknown()).optional(), {
      category: 'client',
      description: 'A client connection attempt.',
    }),
    defineEventType(XUI_ONE_TYPES.user, payload, { category: 'user', description: 'A user (reseller) action in the panel.' }),
    defineEventType(XUI_ONE_TYPES.streamError, payload, { category: 'stream_error', severity: 'error', description: 'A stream failure.' }),
    defineEventType(XUI_ONE_TYPES.streamOutput, outputSchema, {
      category: 'stream_output',
      description: 'The encoding state of a stream.',
    }),
    defineEventType(XUI_ONE_TYPES.system, payload, { category: 'system', description: 'A system event.' }),
    defineEventType(XUI_ONE_TYPES.login, payload, { category: 'login', description: 'A panel login attempt.' }),
    defineEventType(XUI_ONE_TYPES.restream, payload, { category: 'restream', description: 'Restreaming activity.' }),
    defineEventType(XUI_ONE_TYPES.mag, payload, { category: 'mag', description: 'A MAG device event.' }),
  ],
  metrics: [
    { name: 'amount', type: 'float' },
    { name: 'balance_after', type: 'float' },
  ],
});
