/**
 * Keyword-search pages with the index on (`search-pages.ts`): a common term is read by walking the
 * time index, a rare one through the keyword index, and a term that is common only among old rows
 * by both. Whichever way, every page is exactly what LIKE over the whole table answers, taken with
 * the raw driver on the same table: same rows, same order, same next page, same offsets.
 */
import { randomBytes } from 'node:crypto';
import { createEventLog, type EventLog, type QueryInput } from '@eventlog/core';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../postgres/postgres-store.js';
import { createSqliteStore } from '../../sqlite/sqlite-store.js';
import { conformancePreset, NOW, seeded } from '../../testing/fixtures.js';
import { requireServer } from '../../testing/servers.js';
import { SEARCH_PAGE_PLAN } from './search-pages.js';

const ROWS = 30_000;
const SECOND = 1000;

/**
 * Row `i` is the `i`-th newest: three rows share each time (ties cross the windows' edges), and
 * the rows are recorded in a shuffled order, so ids do not follow time.
 */
function message(i: number): string {
  const words = [`row ${i} ok`];
  // Common: a quarter of all rows.
  if (i % 4 === 1) words.push('Common Word');
  // Rare: ten rows.
  if (i % 3001 === 17) words.push('Needle');
  // Common among the oldest rows only: the walk finds none in its windows, the index the rest.
  if (i >= ROWS - 5000 && i % 2 === 0) words.push('Fossil');
  // Some recent rows, then none, then many old ones: a page is gathered over several windows.
  if ((i < 6000 && i % 150 === 3) || (i >= ROWS / 2 && i % 3 === 0)) words.push('Mosaic');
  // Escaped wildcards, common: LIKE must keep them literal on both paths.
  if (i % 5 === 2) words.push('50%_off');
  return words.join(' ');
}

const TERMS = ['common word', 'NEEDLE', 'fossil', 'mosaic', '50%_o', 'row 2999'] as const;

function events() {
  const random = seeded(7);
  const order = Array.from({ length: ROWS }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order.map((i) => ({
    type: 'auth.login' as const,
    time: NOW - Math.floor(i / 3) * SECOND,
    tenantId: `tenant-${i % 2}`,
    action: 'sign-in',
    message: message(i),
  }));
}

/** The ids LIKE answers over the whole table, in the page's order (the raw driver, no eventlog). */
type Reference = (term: string, direction: 'asc' | 'desc', tenant?: string) => Promise<number[]>;

const ids = (page: { items: readonly { id: number }[] }) => page.items.map((e) => e.id);

/** Pages of `term` through the log, each compared with the slice of the reference it must be. */
async function comparePages(log: EventLog, reference: Reference, term: string) {
  for (const direction of ['desc', 'asc'] as const) {
    for (const tenant of [undefined, 'tenant-1']) {
      const all = await reference(term, direction, tenant);
      const filter = { search: term, ...(tenant ? { tenantId: tenant } : {}) };
      const sort = { field: 'time', direction };
      const label = `${term} ${direction} ${tenant ?? 'all tenants'}`;
      // Three keyset pages of 50, each after the previous one's cursor.
      let cursor: string | null | undefined;
      for (let p = 0; p < 3; p++) {
        const page = await log.query({ filter, sort, limit: 50, ...(cursor ? { cursor } : {}) } as QueryInput);
        expect(ids(page), `${label}, cursor page ${p + 1}`).toEqual(all.slice(p * 50, p * 50 + 50));
        cursor = 'nextCursor' in page ? page.nextCursor : undefined;
        expect(cursor === null, `${label}, cursor page ${p + 1} is the last`).toBe(all.length <= p * 50 + 50);
        if (!cursor) break;
      }
      // Offset windows, shallow and deep (from 1000 the core seeks the window's start first).
      for (const offset of [0, 37, 260, 1490]) {
        const page = await log.query({ filter, sort, offset, limit: 25 });
        expect(ids(page), `${label}, offset ${offset}`).toEqual(all.slice(offset, offset + 25));
      }
    }
  }
}

/** The statements the SQLite store sends for one read, by kind. */
interface Sent {
  probes: number;
  boundaries: number;
  walks: number;
  indexed: number;
}

describe('sqlite: search pages with the trigram index', () => {
  const sent: string[] = [];
  const database = new Database(':memory:', { verbose: (statement) => sent.push(String(statement)) });
  const log = createEventLog({
    store: createSqliteStore({ database, keywordIndex: true }),
    presets: [conformancePreset],
    clock: () => NOW,
  });
  const reference: Reference = async (term, direction, tenant) => {
    const pattern = `%${term.replace(/[!%_]/g, (c) => `!${c}`)}%`;
    const rows = database
      .prepare(
        `select id from eventlog_events where (message like ? escape '!' or type like ? escape '!' or action like ? escape '!')
         ${tenant ? 'and tenant_id = ?' : ''} order by time ${direction}, id ${direction}`,
      )
      .all(pattern, pattern, pattern, ...(tenant ? [tenant] : [])) as { id: number }[];
    return rows.map((r) => r.id);
  };
  const statements = async (read: () => Promise<unknown>): Promise<Sent> => {
    sent.length = 0;
    await read();
    const reads = sent.filter((s) => /^\s*select/i.test(s));
    return {
      probes: reads.filter((s) => /count\(\*\) as "?n"? from \(select rowid/.test(s)).length,
      boundaries: reads.filter((s) => /^select "time" from/.test(s)).length,
      walks: reads.filter((s) => /^select \* from/.test(s) && / like /.test(s) && !/ match /.test(s)).length,
      indexed: reads.filter((s) => /^select \* from/.test(s) && / match /.test(s)).length,
    };
  };

  beforeAll(async () => {
    await log.ready();
    await log.recordMany(events());
  }, 120_000);
  afterAll(async () => {
    await log.close();
    database.close();
  });

  it('the test data gives each plan its case', async () => {
    const counts = Object.fromEntries(await Promise.all(TERMS.map(async (t) => [t, (await reference(t, 'desc')).length])));
    expect(counts).toEqual({ 'common word': 7500, NEEDLE: 10, fossil: 2500, mosaic: 5040, '50%_o': 6000, 'row 2999': 11 });
    // A walk needs firstWindow / walkPerCandidate candidates: "fossil" has more, "needle" far fewer.
    expect(2500 * SEARCH_PAGE_PLAN.walkPerCandidate).toBeGreaterThanOrEqual(SEARCH_PAGE_PLAN.firstWindow);
    expect(11 * SEARCH_PAGE_PLAN.walkPerCandidate).toBeLessThan(SEARCH_PAGE_PLAN.firstWindow);
  });

  it('a common term walks the time index and stops at the page', async () => {
    const sent = await statements(() => log.query({ filter: { search: 'common word' }, limit: 50 }));
    expect(sent).toEqual({ probes: 1, boundaries: 1, walks: 1, indexed: 0 });
  });

  it('a rare term is read through the index', async () => {
    const sent = await statements(() => log.query({ filter: { search: 'needle' }, limit: 50 }));
    expect(sent).toEqual({ probes: 1, boundaries: 0, walks: 0, indexed: 1 });
  });

  it('a term common only among old rows walks its budget, then reads the rest through the index', async () => {
    const sent = await statements(() => log.query({ filter: { search: 'fossil' }, limit: 50 }));
    expect(sent.walks).toBeGreaterThanOrEqual(1);
    expect(sent.indexed).toBe(1);
  });

  it('a page whose matches are spread out is gathered over several windows, still without the index', async () => {
    const sent = await statements(() => log.query({ filter: { search: 'mosaic' }, limit: 50 }));
    expect(sent.walks).toBeGreaterThanOrEqual(3);
    expect(sent.indexed).toBe(0);
  });

  for (const term of TERMS) {
    it(`"${term}": every page is the raw LIKE answer`, async () => {
      await comparePages(log, reference, term);
    }, 60_000);
  }
});

const url = await requireServer('postgres');

describe.skipIf(!url)('postgres: search pages with the pg_trgm index', () => {
  const schema = `el_sp${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url ?? undefined, max: 2 });
  const log = createEventLog({
    store: createPostgresStore({ connectionString: url ?? '', schema, maxConnections: 2, keywordIndex: true }),
    presets: [conformancePreset],
    clock: () => NOW,
  });
  const reference: Reference = async (term, direction, tenant) => {
    const pattern = `%${term.replace(/[!%_]/g, (c) => `!${c}`)}%`;
    const { rows } = await pool.query(
      `select id from "${schema}".eventlog_events
        where (message ilike $1 escape '!' or type ilike $1 escape '!' or action ilike $1 escape '!') ${tenant ? 'and tenant_id = $2' : ''}
        order by time ${direction}, id ${direction}`,
      [pattern, ...(tenant ? [tenant] : [])],
    );
    return rows.map((r: { id: string }) => Number(r.id));
  };

  beforeAll(async () => {
    await log.ready();
    await log.recordMany(events());
    await pool.query(`analyze "${schema}".eventlog_events`);
  }, 180_000);
  afterAll(async () => {
    await log.close().catch(() => undefined);
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  });

  for (const term of TERMS) {
    it(`"${term}": every page is the raw ILIKE answer`, async () => {
      await comparePages(log, reference, term);
    }, 60_000);
  }
});
