import { type RawBuilder, sql } from 'kysely';
import type { AnyKysely } from '../dialect.js';
import type { TableNames } from '../migrations.js';
import { permanentStoreError } from '../transient.js';
import { coveredColumns, INDEXED_SEARCH_COLUMNS, type KeywordSearch } from './keyword-search.js';

/**
 * Separates the columns in the indexed text. A term that contains it could match across two
 * columns, so such a term is answered without the index.
 */
const SEPARATOR = '\u0001';

/** SQLSTATEs of "this role or server cannot create the extension". */
const EXTENSION_UNAVAILABLE = new Set(['58P01', '42501', '0A000', '22023', '42704']);

/** Name of the trigram index on one events table. */
export function postgresSearchIndex(tables: Pick<TableNames, 'indexPrefix'>): string {
  return `${tables.indexPrefix}search`;
}

/** The indexed expression: the searched columns joined by {@link SEPARATOR}, NULL as empty text. */
function searchedText(): RawBuilder<string> {
  return sql<string>`(${sql.join(
    INDEXED_SEARCH_COLUMNS.map((c) => sql`coalesce(${sql.ref(c)}, '')`),
    sql` || E'\\x01' || `,
  )})`;
}

/** Escapes LIKE wildcards with PostgreSQL's default escape character, so no ESCAPE clause is needed. */
function escapeDefault(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * PostgreSQL keyword search on one `pg_trgm` GIN index over the searched columns joined into one
 * text. The query is `ILIKE` on that same expression, which the index answers (pg_trgm folds
 * case itself) and PostgreSQL rechecks on each row, so the semantics are exactly the ILIKE's.
 *
 * The migration creates the extension (`create extension if not exists pg_trgm`); when the role
 * may not, it fails with a {@link StoreError} that says what a DBA must run. Unless `enabled` is true
 * the migration drops the index and every search is the plain ILIKE scan.
 */
export function postgresTrigramSearch(options: { enabled?: boolean } = {}): KeywordSearch {
  let ready = false;
  return {
    async ensure(db, tables) {
      if (options.enabled !== true) {
        // Turned off: GIN maintenance would keep costing every insert for an index nothing reads.
        const name = postgresSearchIndex(tables);
        await sql`drop index if exists ${sql.table(tables.schema ? `${tables.schema}.${name}` : name)}`.execute(db);
        return;
      }
      const schemaOfTrgm = await ensureExtension(db);
      const name = postgresSearchIndex(tables);
      const found = await sql<{ valid: boolean; def: string }>`
        select x.indisvalid as valid, pg_get_indexdef(x.indexrelid) as def
          from pg_index x
          join pg_class i on i.oid = x.indexrelid
          join pg_namespace n on n.oid = i.relnamespace
         where i.relname = ${name} and n.nspname = coalesce(${tables.schema ?? null}::text, current_schema())`.execute(db);
      const current = found.rows[0];
      if (current?.valid && current.def.includes('gin_trgm_ops')) {
        ready = true;
        return;
      }
      // An INVALID index (a failed concurrent build) or another definition under our name: rebuild it.
      if (current) await sql`drop index ${sql.table(tables.schema ? `${tables.schema}.${name}` : name)}`.execute(db);
      // The build reads every stored row: this is the backfill of an existing table.
      await sql`create index ${sql.id(name)} on ${sql.table(tables.events)} using gin (${searchedText()} ${sql.id(schemaOfTrgm)}.gin_trgm_ops)`.execute(
        db,
      );
      ready = true;
    },

    condition(eb, columns, term) {
      if (!ready || term.includes(SEPARATOR) || !sameSet(columns, INDEXED_SEARCH_COLUMNS) || !coveredColumns(columns)) return undefined;
      return eb(searchedText(), 'ilike', `%${escapeDefault(term)}%`);
    },
  };
}

/** Creates pg_trgm when missing and returns the schema holding it. */
async function ensureExtension(db: AnyKysely): Promise<string> {
  const installed = async () =>
    (
      await sql<{ schema: string }>`
        select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(
        db,
      )
    ).rows[0]?.schema;
  const before = await installed();
  if (before) return before;
  try {
    await sql`create extension if not exists pg_trgm`.execute(db);
  } catch (error) {
    // Another process may have created it between our look and our create.
    const raced = await installed();
    if (raced) return raced;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && EXTENSION_UNAVAILABLE.has(code)) {
      const database = (await sql<{ db: string }>`select current_database() as db`.execute(db)).rows[0]?.db ?? '';
      throw permanentStoreError(
        'postgres',
        'migrate',
        `keyword search needs the PostgreSQL extension pg_trgm, which this role cannot create (${(error as Error).message}). ` +
          `A database administrator can run: CREATE EXTENSION pg_trgm; in database "${database}" ` +
          `(the extension ships with PostgreSQL's contrib modules, e.g. the postgresql-contrib package).`,
        error,
      );
    }
    throw error;
  }
  const after = await installed();
  if (!after)
    throw permanentStoreError('postgres', 'migrate', 'create extension pg_trgm reported success but the extension is missing', null);
  return after;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c) => b.includes(c));
}
