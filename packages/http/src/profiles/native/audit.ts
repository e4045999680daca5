// eventlog's own audit events (`eventlog.viewed`, `eventlog.exported`), recorded by the native API.
// Recording one never fails the request it describes: a failure goes to the log's `error` event.
import { EVENTLOG_EXPORTED_TYPE, EVENTLOG_VIEWED_TYPE, type EventInput, type FilterInput, type Principal } from '@eventlog/core';
import type { AnyEventLog } from '../../profile.js';
import type { ResolvedGrant } from './auth.js';

const MAX_USER_AGENT = 512;

/** The principal as an audit payload and actor: plain JSON, no secrets (a principal holds none). */
function describe(principal: Principal) {
  const id = 'id' in principal && principal.id !== undefined ? String(principal.id) : null;
  return {
    actor: { id, type: principal.role },
    // A user's audit events belong to its tenant, so it can see its own; others' to no tenant.
    tenantId: principal.role === 'user' ? String(principal.tenantId ?? principal.id) : null,
    data: { ...principal } as Record<string, unknown>,
  };
}

async function record(log: AnyEventLog, event: EventInput): Promise<void> {
  try {
    await log.record(event);
  } catch (error) {
    log.emit('error', error);
  }
}

/** Records that a principal opened a view of the log (the viewer's one call to `whoami`). @internal */
export function recordViewed(log: AnyEventLog, request: Request, principal: Principal, grant: ResolvedGrant): Promise<void> {
  const who = describe(principal);
  return record(log, {
    type: EVENTLOG_VIEWED_TYPE,
    action: 'view',
    outcome: 'success',
    message: `${principal.role}${who.actor.id ? ` ${who.actor.id}` : ''} opened a view of the log`,
    actor: who.actor,
    tenantId: who.tenantId,
    userAgent: request.headers.get('user-agent')?.slice(0, MAX_USER_AGENT) ?? null,
    data: { principal: who.data, filter: (grant.filter as Record<string, unknown> | null) ?? null, expiresAt: grant.expiresAt },
  });
}

/** Records a finished (or abandoned) CSV export with the rows it wrote. @internal */
export function recordExported(
  log: AnyEventLog,
  principal: Principal,
  grant: ResolvedGrant,
  filter: FilterInput,
  rows: number,
  completed: boolean,
): Promise<void> {
  const who = describe(principal);
  return record(log, {
    type: EVENTLOG_EXPORTED_TYPE,
    action: 'export',
    outcome: completed ? 'success' : 'aborted',
    message: `${principal.role}${who.actor.id ? ` ${who.actor.id}` : ''} exported ${rows} event${rows === 1 ? '' : 's'} as CSV`,
    actor: who.actor,
    tenantId: who.tenantId,
    data: {
      principal: who.data,
      fixedFilter: (grant.filter as Record<string, unknown> | null) ?? null,
      filter: filter as Record<string, unknown>,
      rows,
      completed,
    },
  });
}

/**
 * Passes CSV chunks through while counting their records (CRLF-terminated, RFC 4180: a line
 * break inside a quoted cell does not end one), then calls `done` with the count of data rows
 * once the stream ends, fails or is cancelled. @internal
 */
export function countingCsv(
  chunks: AsyncIterable<string>,
  header: boolean,
  done: (rows: number, completed: boolean) => void,
): AsyncIterable<string> {
  return {
    async *[Symbol.asyncIterator]() {
      let records = 0;
      let quoted = false;
      let completed = false;
      try {
        for await (const chunk of chunks) {
          if (!quoted && !chunk.includes('"')) {
            for (let at = chunk.indexOf('\n'); at >= 0; at = chunk.indexOf('\n', at + 1)) records++;
          } else {
            for (let i = 0; i < chunk.length; i++) {
              const c = chunk.charCodeAt(i);
              if (c === 34) quoted = !quoted;
              else if (c === 10 && !quoted) records++;
            }
          }
          yield chunk;
        }
        completed = true;
      } finally {
        done(Math.max(0, records - (header ? 1 : 0)), completed);
      }
    },
  };
}
