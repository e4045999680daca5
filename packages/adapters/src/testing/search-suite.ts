import { createEventLog, type EventInput, type EventLog } from '@eventlog/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConformanceOptions } from './conformance.js';
import { conformancePreset, MINUTE, NOW, seeded } from './fixtures.js';

/** ASCII-only lower case: the folding every engine agrees on (non-ASCII folding differs per engine). */
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** What a keyword search must answer: the rows with a searched field containing the term, ASCII case folded. */
function expected(rows: readonly { message: string; type: string; action?: string }[], term: string): number {
  const t = asciiLower(term.trim());
  return rows.filter((r) => [r.message, r.type, r.action ?? ''].some((f) => asciiLower(f).includes(t))).length;
}

/**
 * The keyword-search section of the conformance suite: index-backed search keeps the semantics of
 * a case-insensitive substring match with `%` and `_` literal, for long and short terms, across
 * words, combined with other filters, and with no ghost hits after deletes. Called by
 * `runStoreConformance`; callable alone with the same options.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { runSearchConformance } from '@eventlog/adapters/testing';
 * runSearchConformance({ name: 'sqlite', createStore: () => createSqliteStore() });
 * ```
 */
export function runSearchConformance(options: ConformanceOptions): void {
  const open: EventLog[] = [];
  const test = (title: string, fn: () => Promise<void>) => {
    const gap = options.gaps?.[title];
    if (gap) it.fails(`${title} (known gap: ${gap})`, fn);
    else it(title, fn);
  };

  async function setup() {
    const store = await options.createStore();
    const log = createEventLog({ store, presets: [conformancePreset], clock: () => NOW });
    open.push(log);
    await log.ready();
    return log;
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((log) => log.close().catch(() => undefined)));
  });

  type Input = Parameters<Awaited<ReturnType<typeof setup>>['record']>[0];
  const event = (i: number, message: string, extra: Partial<EventInput> = {}): Input =>
    ({
      type: 'auth.login',
      time: NOW - i * MINUTE,
      tenantId: `tenant-${i % 2}`,
      action: 'sign-in',
      message,
      ...extra,
    }) as Input;

  describe('keyword search', () => {
    test('search: case-insensitive substrings, inside words and across them', async () => {
      const log = await setup();
      await log.recordMany([
        event(1, 'Upstream ERROR 502 from gateway'),
        event(2, 'upstream error 503'),
        event(3, 'all fine'),
        event(4, 'ErRoRs everywhere'),
      ]);
      expect(await log.count({ search: 'error' })).toBe(3);
      expect(await log.count({ search: 'ERROR' })).toBe(3);
      expect(await log.count({ search: 'eRRor 50' })).toBe(2);
      expect(await log.count({ search: 'stream err' })).toBe(2);
      expect(await log.count({ search: 'pstrea' })).toBe(2);
      expect(await log.count({ search: 'rors every' })).toBe(1);
      expect(await log.count({ search: 'ateway' })).toBe(1);
      // The type and the action are searched too.
      expect(await log.count({ search: 'AUTH.LOG' })).toBe(4);
      expect(await log.count({ search: 'gn-i' })).toBe(4);
    });

    test('search: % and _ are literal in long and short terms', async () => {
      const log = await setup();
      await log.recordMany([
        event(1, 'disk 100% full'),
        event(2, 'disk 100 percent full'),
        event(3, 'disk 1000 full'),
        event(4, 'key snake_case_name'),
        event(5, 'key snakeXcaseYname'),
        event(6, 'under_score'),
        event(7, 'back\\slash and "quotes"'),
      ]);
      expect(await log.count({ search: '100%' })).toBe(1);
      expect(await log.count({ search: '0% full' })).toBe(1);
      expect(await log.count({ search: '%' })).toBe(1);
      expect(await log.count({ search: '%f' })).toBe(0);
      expect(await log.count({ search: 'snake_case_' })).toBe(1);
      expect(await log.count({ search: 'e_c' })).toBe(1);
      expect(await log.count({ search: '_' })).toBe(2);
      expect(await log.count({ search: '_s' })).toBe(1);
      expect(await log.count({ search: '%_%' })).toBe(0);
      expect(await log.count({ search: 'k\\s' })).toBe(1);
      expect(await log.count({ search: '\\' })).toBe(1);
      expect(await log.count({ search: '"quotes"' })).toBe(1);
      expect(await log.count({ search: '"' })).toBe(1);
    });

    test('search: terms of one and two characters', async () => {
      const log = await setup();
      await log.recordMany([event(1, 'a'), event(2, 'Ab'), event(3, 'xyz'), event(4, 'B-52')]);
      // Every event's type (auth.login) holds "a", "h" and "in": only messages tell the rest apart.
      expect(await log.count({ search: 'A' })).toBe(4);
      expect(await log.count({ search: 'ab' })).toBe(1);
      expect(await log.count({ search: 'b-' })).toBe(1);
      expect(await log.count({ search: 'yz' })).toBe(1);
      expect(await log.count({ search: 'q' })).toBe(0);
      expect(await log.count({ search: '52' })).toBe(1);
    });

    test('search: unicode text', async () => {
      const log = await setup();
      await log.recordMany([
        event(1, 'Café crème brûlée'),
        event(2, 'CAFE au lait'),
        event(3, '日本語のログ'),
        event(4, 'launch 🚀 ok'),
        event(5, 'Ελληνικά'),
      ]);
      expect(await log.count({ search: 'café' })).toBe(1);
      expect(await log.count({ search: 'crème br' })).toBe(1);
      // ASCII letters fold in any text; folding of other letters differs between engines.
      expect(await log.count({ search: 'caf' })).toBe(2);
      expect(await log.count({ search: 'CRÈME' })).toBeLessThanOrEqual(1);
      expect(await log.count({ search: '日本語' })).toBe(1);
      expect(await log.count({ search: '本語' })).toBe(1);
      expect(await log.count({ search: 'ログ' })).toBe(1);
      expect(await log.count({ search: '🚀' })).toBe(1);
      expect(await log.count({ search: '🚀 ok' })).toBe(1);
      expect(await log.count({ search: 'ληνικ' })).toBe(1);
      expect(await log.count({ search: '中文' })).toBe(0);
    });

    test('search: a term with no match returns nothing, pages and totals agree', async () => {
      const log = await setup();
      await log.recordMany(Array.from({ length: 30 }, (_, i) => event(i, `request ${i} served`)));
      expect(await log.count({ search: 'nothing like this' })).toBe(0);
      const page = await log.query({ filter: { search: 'zqx' } });
      expect(page.items).toEqual([]);
      expect(page.total).toBe(0);
      const hits = await log.query({ filter: { search: 'request 1' }, pageSize: 5 });
      expect(hits.total).toBe(11);
      expect(hits.items.map((e) => e.message)).toEqual([
        'request 1 served',
        'request 10 served',
        'request 11 served',
        'request 12 served',
        'request 13 served',
      ]);
    });

    test('search: combined with tenant, type, time range, cursor and aggregates', async () => {
      const log = await setup();
      await log.recordMany(
        Array.from({ length: 40 }, (_, i) =>
          event(
            i,
            i % 4 === 0 ? `timeout talking to upstream #${i}` : `ok #${i}`,
            i % 5 === 0 ? { type: 'stream.state', data: { bitrate: '1', resolution: 'hd' } } : {},
          ),
        ),
      );
      // Timeouts: i = 0, 4, …, 36 (10 rows); tenant-0 holds the even i, so all of them.
      expect(await log.count({ search: 'timeout' })).toBe(10);
      expect(await log.count({ search: 'timeout', tenantId: 'tenant-1' })).toBe(0);
      expect(await log.count({ search: 'timeout', tenantId: 'tenant-0', type: 'stream.state' })).toBe(2);
      expect(await log.count({ search: 'TIMEOUT', since: NOW - 10 * MINUTE })).toBe(3);
      expect(await log.count({ search: 'timeout', since: NOW - 30 * MINUTE, until: NOW - 10 * MINUTE })).toBe(5);
      const first = await log.query({ filter: { search: 'upstream' }, limit: 4 });
      expect(first.items.map((e) => e.message)).toEqual([0, 4, 8, 12].map((i) => `timeout talking to upstream #${i}`));
      const second = await log.query({ filter: { search: 'upstream' }, limit: 4, cursor: first.nextCursor ?? undefined });
      expect(second.items.map((e) => e.message)).toEqual([16, 20, 24, 28].map((i) => `timeout talking to upstream #${i}`));
      const stats = await log.stats({ search: 'upstream' });
      expect(stats.count).toBe(10);
      const top = await log.top({ by: 'type', filter: { search: 'upstream' } });
      expect(top.map((t) => [t.value, t.count])).toEqual([
        ['auth.login', 8],
        ['stream.state', 2],
      ]);
    });

    test('search: no ghost hits after prune and filtered deletes, new rows found', async () => {
      const log = await setup();
      await log.recordMany(Array.from({ length: 20 }, (_, i) => event(i, `session expired for user ${i}`)));
      expect(await log.count({ search: 'expired' })).toBe(20);
      expect(await log.prune({ before: NOW - 9 * MINUTE, pauseMs: 0 })).toBe(10);
      expect(await log.count({ search: 'expired' })).toBe(10);
      expect(await log.count({ search: 'user 15' })).toBe(0);
      expect((await log.query({ filter: { search: 'user 1' } })).items.map((e) => e.message)).toEqual(['session expired for user 1']);
      expect(await log.prune({ before: NOW + 1, filter: { tenantId: 'tenant-0' }, pauseMs: 0 })).toBe(5);
      expect(await log.count({ search: 'expired' })).toBe(5);
      expect(await log.count({ search: 'user 2' })).toBe(0);
      await log.record(event(0, 'session expired for user 15'));
      expect(await log.count({ search: 'user 15' })).toBe(1);
      expect(await log.prune({ before: NOW + 1, pauseMs: 0 })).toBe(6);
      expect(await log.count({ search: 'expired' })).toBe(0);
      expect(await log.count({ search: 'ex' })).toBe(0);
    });

    test('search: every substring of a seeded corpus matches what a substring test says', async () => {
      const log = await setup();
      const random = seeded(14);
      const words = ['Error', 'warn', 'GET', '/api/v1', 'user_id', '50%', 'timeout', 'token', 'Retry', 'a-b', 'x.y', "o'k"];
      const rows = Array.from({ length: 60 }, () => {
        const n = 1 + Math.floor(random() * 4);
        const message = Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(random() < 0.5 ? ' ' : '');
        return { type: 'auth.login', action: 'sign-in', message };
      });
      await log.recordMany(rows.map((r, i) => event(i, r.message)));
      const terms = new Set<string>();
      while (terms.size < 40) {
        const source = rows[Math.floor(random() * rows.length)]!.message;
        const start = Math.floor(random() * source.length);
        const length = 1 + Math.floor(random() * 7);
        const term = source.slice(start, start + length).trim();
        if (term === '') continue;
        terms.add(random() < 0.5 ? term.toUpperCase() : term);
      }
      for (const term of terms) expect(await log.count({ search: term }), term).toBe(expected(rows, term));
    });
  });
}
