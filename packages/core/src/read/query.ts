import { z } from 'zod';
import { type LogCore, parseInput, type Scope } from '../core.js';
import { InvalidCursorError } from '../errors.js';
import { type FilterInput, isEmptySelection } from '../filter/filter.js';
import { decodeCursor, encodeCursor, fingerprint } from '../pagination/cursor.js';
import { createQuerySchema, type QueryInput } from '../pagination/query.js';
import { type BucketCounts, findOf, findWindow } from '../pagination/seek.js';
import { createRollupPlanner } from '../rollups/planner.js';
import { rowToEvent, type StoredEvent } from '../schema/event.js';
import { applyScope } from '../scope/principal.js';
import type { CursorResult, OffsetResult, PageResult, ReadOptions } from '../types.js';
import { guardRead, signalOf } from './abort.js';

const idSchema = z
  .number('must be a positive whole number')
  .int('must be a positive whole number')
  .min(1, 'must be a positive whole number')
  .max(Number.MAX_SAFE_INTEGER, 'must be a positive whole number');
const getSchema = z.object({ id: idSchema });

/** `query`, `count` and `get` over a scope; events come back unmasked (the view masks). @internal */
export function createQueryReads(core: LogCore) {
  const querySchema = createQuerySchema(core.registry, core.limits);
  const read = (row: Record<string, unknown>): StoredEvent => rowToEvent(row, core.registry);
  const planner = createRollupPlanner(core);

  // Rows per time bucket from rollups, for deep windows (pagination/seek.ts); never from raw rows.
  const counts: BucketCounts = async (where, stepMs) => {
    const rows = await planner.fromRollups({ where, sum: [], groupBy: { timeStepMs: stepMs }, maxGrain: stepMs });
    return rows ? rows.map((r) => ({ start: Number(r.key), count: r.count })) : null;
  };

  async function query(scope: Scope, input?: QueryInput, options?: ReadOptions): Promise<PageResult | CursorResult | OffsetResult> {
    core.assertOpen();
    const q = parseInput(querySchema, input ?? {});
    const signal = signalOf(options);
    const where = core.conditions(scope, q.filter);
    await core.ready();
    const orderBy = { column: q.column, direction: q.direction };
    if (q.kind === 'offset') {
      if (isEmptySelection(where)) return { items: [], total: 0, offset: q.offset, limit: q.limit };
      const [rows, total] = await Promise.all([
        guardRead(core, 'find', signal, () =>
          findWindow(findOf(core.store), { where, orderBy, limit: q.limit, offset: q.offset, signal }, counts),
        ),
        planner.count(where, signal),
      ]);
      return { items: rows.map(read), total, offset: q.offset, limit: q.limit };
    }
    if (q.kind === 'page') {
      if (isEmptySelection(where)) return { items: [], total: 0, page: q.page, pageSize: q.pageSize, totalPages: 0 };
      const [rows, total] = await Promise.all([
        guardRead(core, 'find', signal, () =>
          findWindow(findOf(core.store), { where, orderBy, limit: q.pageSize, offset: (q.page - 1) * q.pageSize, signal }, counts),
        ),
        planner.count(where, signal),
      ]);
      return { items: rows.map(read), total, page: q.page, pageSize: q.pageSize, totalPages: Math.ceil(total / q.pageSize) };
    }
    const print = fingerprint(where);
    let after: { value: number; id: number } | undefined;
    if (q.cursor) {
      const position = decodeCursor(q.cursor);
      if (position.filter !== print || position.column !== q.column || position.direction !== q.direction) {
        throw new InvalidCursorError('The cursor belongs to a different filter or sort; start again without a cursor.');
      }
      after = { value: position.value, id: position.id };
    }
    if (isEmptySelection(where)) return { items: [], nextCursor: null };
    const rows = await guardRead(core, 'find', signal, () =>
      core.store.find({ where, orderBy, limit: q.limit + 1, signal, ...(after ? { after } : {}) }),
    );
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const last = page[page.length - 1];
    const nextCursor =
      more && last
        ? encodeCursor({ column: q.column, direction: q.direction, value: Number(last[q.column]), id: Number(last.id), filter: print })
        : null;
    return { items: page.map(read), nextCursor };
  }

  async function count(scope: Scope, filter?: FilterInput, options?: ReadOptions): Promise<number> {
    core.assertOpen();
    const signal = signalOf(options);
    const where = core.conditions(scope, filter);
    await core.ready();
    return isEmptySelection(where) ? 0 : planner.count(where, signal);
  }

  async function get(scope: Scope, id: number, options?: ReadOptions): Promise<StoredEvent | null> {
    core.assertOpen();
    parseInput(getSchema, { id });
    const signal = signalOf(options);
    const where = [...applyScope([{ op: 'in', column: 'id', values: [id] }], scope.tenants), ...(scope.fixed ?? [])];
    await core.ready();
    if (isEmptySelection(where)) return null;
    const [row] = await guardRead(core, 'find', signal, () =>
      core.store.find({ where, orderBy: { column: 'id', direction: 'desc' }, limit: 1, signal }),
    );
    return row ? read(row) : null;
  }

  return { query, count, get };
}
