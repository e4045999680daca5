import { ValidationError } from '../errors.js';
import { type FilterInput, matchesConditions, normalizeFilter } from '../filter/filter.js';
import type { StoredEvent } from '../schema/event.js';
import type { Registry } from '../schema/registry.js';
import type { Condition, EventRow } from '../storage/contract.js';

/**
 * The store conditions of a view's fixed filter, validated once when the view is made. A fixed
 * filter may not bound time: reads such as RPM replace the time range of their conditions, which
 * would silently drop such a bound, so it is refused instead. @internal
 */
export function fixedConditions(filter: FilterInput | undefined, registry: Registry): readonly Condition[] {
  if (filter === undefined) return [];
  if (typeof filter === 'object' && filter !== null) {
    const bounded = (['since', 'until'] as const).filter((key) => (filter as Record<string, unknown>)[key] !== undefined);
    if (bounded.length) {
      throw new ValidationError(
        bounded.map((key) => ({
          path: ['filter', key],
          message: 'a fixed filter cannot bound time; give the reader a short-lived credential instead',
        })),
      );
    }
  }
  return Object.freeze(normalizeFilter(filter, registry, ['filter']));
}

/** Session columns a store can filter on (see `SessionQuery`); they share their names with event columns. */
const SESSION_COLUMNS: ReadonlySet<string> = new Set(['type', 'tenant_id', 'actor_id', 'target_type', 'target_id']);

/**
 * Splits fixed conditions for `sessions.list`: those the store can apply to session rows, and
 * those that must be checked against each session's opening event. @internal
 */
export function splitForSessions(conditions: readonly Condition[]): { store: Condition[]; opening: Condition[] } {
  const store: Condition[] = [];
  const opening: Condition[] = [];
  for (const c of conditions) (c.op === 'in' && SESSION_COLUMNS.has(c.column) ? store : opening).push(c);
  return { store, opening };
}

/** Whether a stored event satisfies conditions on stored columns (the event read back as its row). @internal */
export function eventMatches(event: StoredEvent, conditions: readonly Condition[]): boolean {
  if (conditions.length === 0) return true;
  const row: EventRow = {
    ...event.dimensions,
    ...event.metrics,
    id: event.id,
    time: event.time,
    type: event.type,
    category: event.category,
    action: event.action,
    outcome: event.outcome,
    severity: event.severity,
    message: event.message,
    actor_id: event.actor.id,
    actor_type: event.actor.type,
    actor_name: event.actor.name,
    target_type: event.target.type,
    target_id: event.target.id,
    target_name: event.target.name,
    tenant_id: event.tenantId,
    ip: event.ip,
    user_agent: event.userAgent,
    session_id: event.sessionId,
    duration_ms: event.durationMs,
  };
  return matchesConditions(row, conditions);
}
