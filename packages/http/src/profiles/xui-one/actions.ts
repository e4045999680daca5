import type { EventLogView, FilterInput, StoredEvent } from '@eventlog/core';
import { HttpError } from '../../errors.js';
import { XUI_ONE_TYPES } from './preset.js';

/** A numeric id. @internal */
export const ID = /^\d{1,20}$/;
// Ids are numeric in XUI; hosts with text ids (UUIDs) get letters, digits and `_.:-`, but no leading sign.
/** A text id. @internal */
export const WORD = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** The request's fields, one string each. @internal */
export type Params = Record<string, string | undefined>;
/** What an action reads with. @internal */
export interface ActionContext {
  reader: EventLogView;
  params: Params;
  limit: number;
  offset: number;
}
/** One `action=` of the API. @internal */
export interface Action {
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

/** The log actions by name; ip addresses come masked from the view when the profile masks. @internal */
export function xuiActions(): Record<string, Action> {
  const list = async (context: ActionContext, type: string, filter: FilterInput = {}) =>
    (await context.reader.query({ filter: { ...filter, type }, limit: context.limit, offset: context.offset })).items;
  const idFilter = (context: ActionContext, ids: Action['ids']): FilterInput => {
    const filter: FilterInput = {};
    for (const [param, field] of Object.entries(ids ?? {})) {
      const value = context.params[param];
      if (value !== undefined && value !== '') filter[field] = value;
    }
    return filter;
  };

  return {
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
}
