import { z } from 'zod';
import { type LogCore, parseInput, type Scope } from '../core.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { isEmptySelection, toEpochMs } from '../filter/filter.js';
import type { EventInput, StoredEvent } from '../schema/event.js';
import { eventMatches, splitForSessions } from '../scope/fixed-filter.js';
import { applyScope } from '../scope/principal.js';
import type { Condition, SessionRow } from '../storage/contract.js';
import type { ClosedSession, OpenSession, SessionFilter, SessionListInput } from '../types.js';

/** Session filter fields and the session columns they match. */
const FILTER_COLUMNS: readonly (readonly [keyof SessionFilter, string])[] = [
  ['type', 'type'],
  ['tenantId', 'tenant_id'],
  ['actorId', 'actor_id'],
  ['targetType', 'target_type'],
  ['targetId', 'target_id'],
];

/** What opening and closing sessions needs from the log besides the core. @internal */
export interface SessionWrites {
  /** Stores one event unscoped and unmasked. */
  record(event: EventInput): Promise<StoredEvent>;
}

/** Listing, opening and closing sessions; results come back unmasked (the view masks). @internal */
export function createSessions(core: LogCore, writes: SessionWrites) {
  const { limits } = core;
  const limitMessage = `must be a whole number from 1 to ${limits.maxPageSize}`;
  const offsetMessage = `must be a whole number from 0 to ${limits.maxOffset}`;
  const value = z.union([z.string(), z.number()]);
  const listSchema = z.object({
    filter: z
      .object(
        Object.fromEntries(
          FILTER_COLUMNS.map(([key]) => [key, z.union([value, z.array(value)], 'must be a string or a list of strings').optional()]),
        ),
      )
      .optional(),
    limit: z
      .number(limitMessage)
      .int(limitMessage)
      .min(1, limitMessage)
      .max(limits.maxPageSize, limitMessage)
      .nullish()
      .transform((v) => v ?? 100),
    offset: z
      .number(offsetMessage)
      .int(offsetMessage)
      .min(0, offsetMessage)
      .max(limits.maxOffset, offsetMessage)
      .nullish()
      .transform((v) => v ?? 0),
  });

  async function list(scope: Scope, input: SessionListInput = {}): Promise<OpenSession[]> {
    core.assertOpen();
    const { filter, limit, offset } = parseInput(listSchema, input);
    const where: Condition[] = [];
    for (const [key, column] of FILTER_COLUMNS) {
      const given = filter?.[key] as string | number | readonly (string | number)[] | undefined;
      if (given === undefined) continue;
      where.push({ op: 'in', column, values: (Array.isArray(given) ? given : [given]).map(String) });
    }
    const fixed = splitForSessions(scope.fixed ?? []);
    const scoped = [...applyScope(where, scope.tenants), ...fixed.store];
    await core.ready();
    if (isEmptySelection(scoped)) return [];
    const rows = fixed.opening.length
      ? await listByOpening(scoped, fixed.opening, limit, offset)
      : await core.guard('listSessions', () => core.store.listSessions({ where: scoped, limit, offset }));
    const now = core.clock();
    return rows.map((row) => ({
      sessionId: row.sessionId,
      type: row.type,
      startedAt: Number(row.startedAt),
      durationMs: Math.max(0, now - Number(row.startedAt)),
      event: openingEvent(row),
    }));
  }

  /** Sessions whose opening event also meets conditions no session column holds, paged in memory. */
  async function listByOpening(where: Condition[], opening: readonly Condition[], limit: number, offset: number): Promise<SessionRow[]> {
    const batch = limits.maxPageSize;
    const matched: SessionRow[] = [];
    let skipped = 0;
    for (let at = 0; matched.length < limit; at += batch) {
      const rows = await core.guard('listSessions', () => core.store.listSessions({ where, limit: batch, offset: at }));
      for (const row of rows) {
        if (matched.length >= limit || !eventMatches(openingEvent(row), opening)) continue;
        if (skipped < offset) skipped++;
        else matched.push(row);
      }
      if (rows.length < batch) break;
    }
    return matched;
  }

  async function open(event: EventInput & { sessionId: string }): Promise<OpenSession> {
    core.assertOpen();
    if (typeof event?.sessionId !== 'string' || event.sessionId === '') {
      throw new ValidationError([{ path: ['sessionId'], message: 'is required to open a session' }]);
    }
    const stored = await writes.record(event);
    await core.guard('openSession', () =>
      core.store.openSession({
        sessionId: event.sessionId,
        type: stored.type,
        tenantId: stored.tenantId,
        actorId: stored.actor.id,
        targetType: stored.target.type,
        targetId: stored.target.id,
        startedAt: stored.time,
        event: JSON.stringify(stored),
      }),
    );
    return {
      sessionId: event.sessionId,
      type: stored.type,
      startedAt: stored.time,
      durationMs: Math.max(0, core.clock() - stored.time),
      event: stored,
    };
  }

  async function close(
    sessionId: string,
    closing?: Partial<EventInput> & { type: string; time?: number | Date },
  ): Promise<ClosedSession | null> {
    core.assertOpen();
    if (typeof sessionId !== 'string' || sessionId === '') throw new ValidationError([{ path: ['sessionId'], message: 'is required' }]);
    if (closing) core.normalize({ ...closing, sessionId }); // validate before the session is removed
    await core.ready();
    const row = await core.guard('closeSession', () => core.store.closeSession(sessionId));
    if (!row) return null;
    const opened = openingEvent(row);
    const startedAt = Number(row.startedAt);
    const closedAt = closing?.time === undefined ? core.clock() : toEpochMs(closing.time);
    const durationMs = Math.max(0, closedAt - startedAt);
    let closed: StoredEvent | null = null;
    if (closing) {
      closed = await writes.record({
        actor: opened.actor,
        target: opened.target,
        tenantId: opened.tenantId,
        ip: opened.ip,
        userAgent: opened.userAgent,
        dimensions: opened.dimensions,
        ...closing,
        time: closedAt,
        sessionId,
        durationMs,
      });
    }
    return { sessionId, startedAt, closedAt, durationMs, opened, closed };
  }

  return { list, open, close };
}

function openingEvent(row: SessionRow): StoredEvent {
  const value = typeof row.event === 'string' ? JSON.parse(row.event) : row.event;
  if (!value || typeof value !== 'object') throw new NotFoundError(`Session "${row.sessionId}" has no opening event.`);
  return value as StoredEvent;
}
