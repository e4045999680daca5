import type { Condition, EventStore } from '@eventlog/core';
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { KyselyStore } from '../kysely/kysely-store.js';
import { whereOf } from '../kysely/where.js';
import { sqliteDialect } from './sqlite-dialect.js';

// biome-ignore lint/suspicious/noExplicitAny: run-time table layout.
type Eb = ExpressionBuilder<any, any>;

/**
 * The SQLite `redactData` of the storage contract: one UPDATE over the ids of the oldest matching
 * rows that still hold `data` (or one of the paths), so each call does bounded work and repeated
 * calls end. Paths are bound as parameters in SQLite's JSON path syntax, each key quoted.
 */
export function sqliteRedactData(store: KyselyStore): NonNullable<EventStore['redactData']> {
  return async (query: { readonly where: readonly Condition[]; readonly limit: number }, fields: readonly string[] | null) => {
    const table = store.tables.events;
    const paths =
      fields?.map(
        (field) =>
          `$${field
            .split('.')
            .map((key) => `."${key}"`)
            .join('')}`,
      ) ?? null;
    const holds = (eb: Eb): Expression<SqlBool> =>
      paths === null
        ? eb('data', 'is not', null)
        : eb.and([eb('data', 'is not', null), eb.or(paths.map((path) => eb(sql`json_type(data, ${path})`, 'is not', null)))]);
    const result = await store.db
      .updateTable(table)
      .set({ data: paths === null ? null : sql`json_remove(data, ${sql.join(paths)})` })
      .where('id', 'in', (eb: Eb) =>
        eb
          .selectFrom(table)
          .select('id')
          .where((inner: Eb) => eb.and([whereOf(inner, query.where, sqliteDialect), holds(inner)]))
          .orderBy('time')
          .orderBy('id')
          .limit(query.limit),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  };
}
