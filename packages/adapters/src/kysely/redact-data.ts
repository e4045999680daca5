import type { Condition, EventStore } from '@eventlog/core';
import { type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { SqlFragments } from './dialect.js';
import type { KyselyStore } from './kysely-store.js';
import { whereOf } from './where.js';

// biome-ignore lint/suspicious/noExplicitAny: run-time table layout.
type Eb = ExpressionBuilder<any, any>;

/** How one engine finds and removes a path inside the `data` column. */
interface JsonPathSql {
  /** True when the path exists in `data` (a JSON null at the path counts as existing). */
  has(path: readonly string[]): RawBuilder<SqlBool>;
  /** `data` without the paths. */
  remove(paths: readonly (readonly string[])[]): RawBuilder<unknown>;
  /** Whether the engine refuses `LIMIT` in an `IN (subquery)` (MySQL, MariaDB). */
  wrapLimit: boolean;
}

// Paths reach here as plain keys (the core allows letters, digits, `_` and `-`); they are still bound
// as parameters, quoted as JSON path members where the engine's path syntax needs it.
const memberPath = (path: readonly string[]) => `$${path.map((key) => `."${key}"`).join('')}`;

const ENGINES: Record<'sqlite' | 'postgres' | 'mysql', JsonPathSql> = {
  sqlite: {
    has: (path) => sql<SqlBool>`json_type(${sql.ref('data')}, ${memberPath(path)}) is not null`,
    remove: (paths) => sql`json_remove(${sql.ref('data')}, ${sql.join(paths.map(memberPath))})`,
    wrapLimit: false,
  },
  postgres: {
    has: (path) => sql<SqlBool>`(${sql.ref('data')} #> ${sql.val(path)}::text[]) is not null`,
    remove: (paths) =>
      paths.reduce<RawBuilder<unknown>>((json, path) => sql`(${json} #- ${sql.val(path)}::text[])`, sql`${sql.ref('data')}`),
    wrapLimit: false,
  },
  mysql: {
    has: (path) => sql<SqlBool>`json_extract(${sql.ref('data')}, ${memberPath(path)}) is not null`,
    remove: (paths) => sql`json_remove(${sql.ref('data')}, ${sql.join(paths.map(memberPath))})`,
    wrapLimit: true,
  },
};

/**
 * The contract's optional `redactData` for a Kysely store: one UPDATE over the ids of the oldest
 * matching rows that still hold `data` (or one of the paths), so each call does bounded work and
 * repeated calls end.
 */
export function kyselyRedactData(
  store: KyselyStore,
  engine: keyof typeof ENGINES,
  fragments: Pick<SqlFragments, 'containsInsensitive'>,
): NonNullable<EventStore['redactData']> {
  const json = ENGINES[engine];
  return async (query: { readonly where: readonly Condition[]; readonly limit: number }, fields: readonly string[] | null) => {
    const table = store.tables.events;
    const paths = fields?.map((field) => field.split('.')) ?? null;
    const holds = (eb: Eb): Expression<SqlBool> =>
      paths === null ? eb('data', 'is not', null) : eb.and([eb('data', 'is not', null), eb.or(paths.map((path) => json.has(path)))]);
    const picked = (eb: Eb) =>
      eb
        .selectFrom(table)
        .select('id')
        .where((inner: Eb) => inner.and([whereOf(inner, query.where, fragments), holds(inner)]))
        .orderBy('time')
        .orderBy('id')
        .limit(query.limit);
    const result = await store.db
      .updateTable(table)
      .set({ data: paths === null ? null : json.remove(paths) })
      // MySQL refuses LIMIT in an IN subquery and reading the table being updated; a derived table does neither.
      .where('id', 'in', (eb: Eb) => (json.wrapLimit ? eb.selectFrom(picked(eb).as('picked')).select('picked.id') : picked(eb)))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  };
}
