import {
  defineEventType,
  definePreset,
  type EventLogReader,
  type FilterInput,
  maskIp,
  type Principal,
  type StoredEvent,
} from '@eventlog/core';
import { z } from 'zod';
import { findBySecret } from '../auth.js';
import { HttpError } from '../errors.js';
import { queryOffset } from '../paging.js';
import { parseQuery, type RawQuery } from '../params.js';
import { defineProfile, defineRoute, json, type Profile } from '../profile.js';

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
 * import { XUI_ONE_TYPES } from '@eventlog/http';
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
 * import { xuiOnePreset } from '@eventlog/http';
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

/** Options of {@link xuiOne}. */
export interface XuiOneOptions {
  /** The access-code path segment, e.g. `cSbuFLhp` for `http://host/cSbuFLhp/?api_key=…`. */
  accessCode: string;
  /** Resolves an `api_key` to a principal (admin, or reseller with its tenants), or null. */
  authenticate: (apiKey: string, request: Request) => Principal | null | Promise<Principal | null>;
  /** Largest `limit`. @default 1000 */
  maxLimit?: number;
  /** Largest `offset`. @default 100000 */
  maxOffset?: number;
  /** Mask `ip_address` in every answer (GDPR mode; the log's own `maskIp` option masks everywhere). @default false */
  maskIp?: boolean;
}

const ID = /^\d{1,20}$/;
// Ids are numeric in XUI; hosts with text ids (UUIDs) get letters, digits and `_.:-`, but no leading sign.
const WORD = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

type Params = Record<string, string | undefined>;
interface ActionContext {
  reader: EventLogReader;
  params: Params;
  limit: number;
  offset: number;
}
interface Action {
  /** Optional id parameters and the filter field each narrows. */
  ids?: Record<string, 'actorId' | 'targetId'>;
  run: (context: ActionContext) => Promise<unknown>;
}

const s = (value: unknown): string => (value === null || value === undefined ? '' : String(value));
const seconds = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '' : String(Math.floor(ms / 1000)));
const money = (value: number | null | undefined): string => (value === null || value === undefined ? '' : value.toFixed(2));
const dataOf = (event: StoredEvent): Record<string, unknown> =>
  event.data && typeof event.data === 'object' && !Array.isArray(event.data) ? (event.data as Record<string, unknown>) : {};

const panelRow = (e: StoredEvent) => ({
  id: s(e.id),
  user_id: s(e.actor.id),
  username: s(e.actor.name),
  action: s(e.action),
  details: s(e.message),
  ip_address: s(e.ip),
  timestamp: seconds(e.time),
});

/**
 * XUI.ONE's logs & events API under `/<access_code>/?api_key=…&action=…` (GET, or POST with a
 * form body): activity_logs, live_connections, credit_logs, client_logs, user_logs, stream_errors,
 * watch_output, system_logs, login_logs, restream_logs, mag_events. Answers are
 * `{"status":"STATUS_SUCCESS","data":…}` with every value a string; every failure is
 * `{"status":"STATUS_FAILURE","error":"…"}` with a 4xx status. `limit`/`offset` default to 100/0
 * and `start` is accepted for `offset`.
 *
 * Where the document shows no example the rows follow their siblings: `user_logs` rows are shaped
 * like `activity_logs` (`id, user_id, username, action, details, ip_address, timestamp`),
 * `restream_logs` rows are `id, user_id, username, stream_id, stream_name, ip_address, action,
 * timestamp`, and `system_logs` rows are `id, level, action, details, timestamp`.
 *
 * @example
 * ```ts
 * import { xuiApiKeys, xuiOne } from '@eventlog/http';
 * const profile = xuiOne({ accessCode: 'cSbuFLhp', authenticate: xuiApiKeys([{ key: '8D3135D30437F86EAE2FA4A2A8345000', principal: { role: 'admin' } }]) });
 * ```
 */
export function xuiOne(options: XuiOneOptions): Profile {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(options.accessCode ?? ''))
    throw new TypeError('xuiOne needs an accessCode of letters, digits, "_" or "-".');
  const maxLimit = options.maxLimit ?? 1000;
  const maxOffset = options.maxOffset ?? 100_000;
  const base = `/${options.accessCode}`;

  const list = async (context: ActionContext, type: string, filter: FilterInput = {}) =>
    (await queryOffset(context.reader, { filter: { ...filter, type }, limit: context.limit, offset: context.offset })).items;
  const idFilter = (context: ActionContext, ids: Action['ids']): FilterInput => {
    const filter: FilterInput = {};
    for (const [param, field] of Object.entries(ids ?? {})) {
      const value = context.params[param];
      if (value !== undefined && value !== '') filter[field] = value;
    }
    return filter;
  };

  const actions: Record<string, Action> = {
    activity_logs: { run: async (c) => (await list(c, XUI_ONE_TYPES.activity)).map(panelRow) },
    user_logs: {
      ids: { user_id: 'actorId' },
      run: async (c) => (await list(c, XUI_ONE_TYPES.user, idFilter(c, { user_id: 'actorId' }))).map(panelRow),
    },
    live_connections: {
      run: async (c) => {
        const sessions = await c.reader.sessions.list({ filter: { type: XUI_ONE_TYPES.connectionOpen }, limit: c.limit, offset: c.offset });
        return sessions.map(({ event, startedAt, durationMs }) => ({
          line_id: s(event.actor.id),
          username: s(event.actor.name),
          stream_id: s(event.target.id),
          stream_name: s(event.target.name),
          ip_address: s(event.ip),
          user_agent: s(event.userAgent),
          started_at: seconds(startedAt),
          duration: seconds(durationMs),
        }));
      },
    },
    credit_logs: {
      ids: { user_id: 'actorId' },
      run: async (c) =>
        (await list(c, XUI_ONE_TYPES.credit, idFilter(c, { user_id: 'actorId' }))).map((e) => ({
          id: s(e.id),
          user_id: s(e.actor.id),
          username: s(e.actor.name),
          action: s(e.action),
          amount: money(e.metrics.amount),
          balance_after: money(e.metrics.balance_after),
          description: s(e.message),
          timestamp: seconds(e.time),
        })),
    },
    client_logs: {
      ids: { line_id: 'actorId' },
      run: async (c) =>
        (await list(c, XUI_ONE_TYPES.client, idFilter(c, { line_id: 'actorId' }))).map((e) => ({
          line_id: s(e.actor.id),
          username: s(e.actor.name),
          ip_address: s(e.ip),
          user_agent: s(e.userAgent),
          connection_type: s(dataOf(e).connection_type),
          timestamp: seconds(e.time),
        })),
    },
    stream_errors: {
      ids: { stream_id: 'targetId' },
      run: async (c) =>
        (await list(c, XUI_ONE_TYPES.streamError, idFilter(c, { stream_id: 'targetId' }))).map((e) => ({
          stream_id: s(e.target.id),
          stream_name: s(e.target.name),
          error_type: s(e.action),
          error_message: s(e.message),
          timestamp: seconds(e.time),
          duration: seconds(e.durationMs),
        })),
    },
    watch_output: {
      ids: { stream_id: 'targetId' },
      run: async (c) => {
        const streamId = c.params.stream_id;
        if (!streamId) throw new HttpError('BAD_REQUEST', 'stream_id is required.');
        const event = await c.reader.latest({ type: XUI_ONE_TYPES.streamOutput, target: { id: streamId } });
        if (!event) throw new HttpError('NOT_FOUND', `No output has been recorded for stream ${streamId}.`);
        const data = dataOf(event);
        return {
          stream_id: s(event.target.id),
          ...Object.fromEntries(Object.entries(data).map(([key, value]) => [key, s(value)])),
        };
      },
    },
    system_logs: {
      run: async (c) =>
        (await list(c, XUI_ONE_TYPES.system)).map((e) => ({
          id: s(e.id),
          level: s(e.severity),
          action: s(e.action),
          details: s(e.message),
          timestamp: seconds(e.time),
        })),
    },
    login_logs: {
      run: async (c) => {
        const success = c.params.success;
        if (success !== undefined && success !== '' && success !== '0' && success !== '1') {
          throw new HttpError('BAD_REQUEST', 'success must be 1 (successful) or 0 (failed).');
        }
        const filter: FilterInput = success === '1' ? { outcome: 'success' } : success === '0' ? { outcome: 'failure' } : {};
        return (await list(c, XUI_ONE_TYPES.login, filter)).map((e) => ({
          username: s(e.actor.name),
          ip_address: s(e.ip),
          success: e.outcome === 'success' ? '1' : '0',
          failure_reason: e.outcome === 'success' ? '' : s(e.message),
          timestamp: seconds(e.time),
        }));
      },
    },
    restream_logs: {
      ids: { user_id: 'actorId', stream_id: 'targetId' },
      run: async (c) =>
        (await list(c, XUI_ONE_TYPES.restream, idFilter(c, { user_id: 'actorId', stream_id: 'targetId' }))).map((e) => ({
          id: s(e.id),
          user_id: s(e.actor.id),
          username: s(e.actor.name),
          stream_id: s(e.target.id),
          stream_name: s(e.target.name),
          ip_address: s(e.ip),
          action: s(e.action),
          timestamp: seconds(e.time),
        })),
    },
    mag_events: {
      ids: { mag_id: 'targetId' },
      run: async (c) =>
        (await list(c, XUI_ONE_TYPES.mag, idFilter(c, { mag_id: 'targetId' }))).map((e) => ({
          mag_id: s(e.target.id),
          mac: s(e.target.name),
          event_type: s(e.action),
          details: s(e.message),
          ip_address: s(e.ip),
          timestamp: seconds(e.time),
        })),
    },
  };

  const count = (params: Params, name: string, fallback: number, min: number, max: number): number => {
    const raw = params[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    if (!/^\s*\d{1,16}\s*$/.test(raw)) throw new HttpError('BAD_REQUEST', `${name} must be a whole number from ${min} to ${max}.`);
    const value = Number(raw);
    if (value < min || value > max) throw new HttpError('BAD_REQUEST', `${name} must be a whole number from ${min} to ${max}.`);
    return value;
  };

  const route = defineRoute({
    method: ['GET', 'POST'],
    path: [`${base}/`, base],
    body: z.unknown(),
    maxBodyBytes: 64 * 1024,
    run: async ({ url, body, log, request }) => {
      // Like PHP's $_REQUEST: query and form fields together, the form winning. Every value is one string.
      const fields: RawQuery = {
        ...parseQuery(url.searchParams),
        ...(body && typeof body === 'object' && !Array.isArray(body) ? (body as RawQuery) : {}),
      };
      const params: Params = {};
      for (const [key, value] of Object.entries(fields)) {
        const one = Array.isArray(value) ? value[value.length - 1] : value;
        if (typeof one !== 'string') throw new HttpError('BAD_REQUEST', `${key} must be text.`);
        if (one.length > 256) throw new HttpError('BAD_REQUEST', `${key} is too long.`);
        params[key] = one;
      }
      const apiKey = params.api_key;
      const principal = apiKey ? await options.authenticate(apiKey, request) : null;
      if (!principal) throw new HttpError('UNAUTHORIZED', 'Invalid API key.');
      const action = Object.hasOwn(actions, params.action ?? '') ? actions[params.action!] : undefined;
      if (!action) throw new HttpError('BAD_REQUEST', 'Invalid action.');
      for (const param of Object.keys(action.ids ?? {})) {
        const value = params[param];
        if (value !== undefined && value !== '' && !ID.test(value) && !WORD.test(value))
          throw new HttpError('BAD_REQUEST', `Invalid ${param}.`);
      }
      const limit = count(params, 'limit', params.action === 'live_connections' ? maxLimit : 100, 1, maxLimit);
      const offset = count(params, params.offset !== undefined && params.offset !== '' ? 'offset' : 'start', 0, 0, maxOffset);
      const reader = principal.role === 'admin' ? log : log.scoped(principal);
      return action.run({ reader, params, limit, offset });
    },
  });

  return defineProfile({
    name: 'xuiOne',
    preset: xuiOnePreset,
    prefixes: [base],
    routes: [route],
    success: (data) => json({ status: 'STATUS_SUCCESS', data: options.maskIp ? maskRows(data) : data }),
    failure: (error) => json({ status: 'STATUS_FAILURE', error: error.message }, error.status),
  });
}

function maskRows(data: unknown): unknown {
  const mask = (row: unknown) => {
    if (!row || typeof row !== 'object' || !('ip_address' in row)) return row;
    const ip = (row as { ip_address: string }).ip_address;
    return { ...row, ip_address: ip ? (maskIp(ip) ?? '') : ip };
  };
  return Array.isArray(data) ? data.map(mask) : mask(data);
}

/**
 * An `authenticate` hook for {@link xuiOne} over a fixed list of API keys, compared in constant time.
 *
 * @example
 * ```ts
 * import { xuiApiKeys } from '@eventlog/http';
 * const authenticate = xuiApiKeys([
 *   { key: 'ADMINKEY', principal: { role: 'admin' } },
 *   { key: 'RESELLERKEY', principal: { role: 'reseller', id: '5', tenantIds: ['5'] } },
 * ]);
 * ```
 */
export function xuiApiKeys(entries: readonly { key: string; principal: Principal }[]): XuiOneOptions['authenticate'] {
  return (apiKey) => findBySecret(apiKey, entries, (e) => e.key)?.principal ?? null;
}
