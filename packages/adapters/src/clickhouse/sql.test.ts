import { randomBytes } from 'node:crypto';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { createEventLog } from '@eventlog/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformancePreset, NOW } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';
import { createClickhouseStore } from './clickhouse-store.js';
import { escapeLike, quoteIdentifier, quoteNumber, quoteString } from './sql.js';

const CONTROL = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\x7f';

/** Strings that break naive quoting, LIKE patterns or the transport. */
const HOSTILE = [
  '',
  "'",
  "''",
  "\\'",
  "O'Brien",
  '\\',
  '\\\\',
  'trailing backslash\\',
  "\\' OR 1=1 --",
  "x'); DROP TABLE eventlog_events; --",
  "' OR '1'='1",
  'NUL\0inside',
  '\0',
  'line\nbreak\r\nand\ttab',
  CONTROL,
  '%',
  '_',
  '100%',
  'snake_case',
  '\\%',
  '\\_',
  '%\\%_\\_',
  '/* comment */ --',
  '`backtick`',
  '"double"',
  '{param:String}',
  '$1 ? :name',
  'Ünïcödé — 日本語 🚀 👩‍👩‍👧',
  '\u202Eright-to-left\u202C',
  '\uFEFFbom and \u2028 line separator',
  'e\u0301 combining',
  'x'.repeat(10_000),
];

const url = await requireServer('clickhouse');

describe('ClickHouse literals (pure)', () => {
  it('escapes quotes, backslashes and control characters', () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString('a\\b')).toBe("'a\\\\b'");
    expect(quoteString('\0\n\r\t\x01\x7f')).toBe("'\\0\\n\\r\\t\\x01\\x7f'");
    expect(quoteString('日本')).toBe("'日本'");
  });

  it('escapes LIKE wildcards and the escape character', () => {
    expect(escapeLike('100%_x\\')).toBe('100\\%\\_x\\\\');
  });

  it('refuses what cannot be a literal or an identifier', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) expect(() => quoteNumber(bad)).toThrow(TypeError);
    for (const bad of ['', 'a b', 'a`b', 'a.b', '1abc', "a'b", 'tab\tle']) expect(() => quoteIdentifier(bad)).toThrow(TypeError);
    expect(quoteIdentifier('eventlog_events')).toBe('`eventlog_events`');
  });
});

describe.skipIf(!url)('ClickHouse literals (against the server)', () => {
  let client: ClickHouseClient;
  const one = async <T>(query: string): Promise<T> => {
    const rows = await (await client.query({ query, format: 'JSONEachRow' })).json<T>();
    expect(rows).toHaveLength(1);
    return rows[0]!;
  };

  beforeAll(() => {
    client = createClient({ url: url!, request_timeout: 600_000 });
  });
  afterAll(async () => {
    await client?.close();
  });

  it('every hostile string reads back unchanged', async () => {
    for (const value of HOSTILE) {
      const row = await one<{ v: string; n: number }>(`SELECT ${quoteString(value)} AS v, length(${quoteString(value)}) AS n`);
      expect(row.v, JSON.stringify(value.slice(0, 40))).toBe(value);
      expect(Number(row.n)).toBe(Buffer.byteLength(value, 'utf8'));
    }
  });

  it('an escaped LIKE pattern matches the text literally and only it', async () => {
    for (const value of HOSTILE.filter((v) => v !== '')) {
      const pattern = quoteString(`%${escapeLike(value)}%`);
      const row = await one<{ hit: number }>(`SELECT ${quoteString(`<<${value}>>`)} LIKE ${pattern} AS hit`);
      expect(Number(row.hit), JSON.stringify(value.slice(0, 40))).toBe(1);
    }
    const cases: [string, string, number][] = [
      ['abc', '%', 0],
      ['abc', '_', 0],
      ['a_c', '_', 1],
      ['abc', 'a_c', 0],
      ['a_c', 'a_c', 1],
      ['100 percent', '100%', 0],
      ['100% done', '100%', 1],
      ['a\\b', '\\', 1],
      ['ab', '\\', 0],
      ['a\\%b', '\\%', 1],
      ['a%b', '\\%', 0],
    ];
    for (const [text, term, expected] of cases) {
      const row = await one<{ hit: number }>(`SELECT ${quoteString(text)} LIKE ${quoteString(`%${escapeLike(term)}%`)} AS hit`);
      expect(Number(row.hit), `${text} LIKE %${term}%`).toBe(expected);
    }
  });

  it('numbers read back unchanged, negative ones included', async () => {
    for (const value of [0, -0, 1, -1, 42.5, -1e-7, 2 ** 53 - 1, -(2 ** 53 - 1), 1e21, 0.1, 5e-324, 1.7976931348623157e308]) {
      const row = await one<{ v: number }>(`SELECT toFloat64(${quoteNumber(value)}) AS v, 1 - ${quoteNumber(value)} AS w`);
      // 18.16 flushes subnormals such as 5e-324 to 0; current servers keep them.
      if (Math.abs(value) < 2.2250738585072014e-308) expect([0, value]).toContain(Number(row.v));
      else expect(Number(row.v)).toBe(value === 0 ? 0 : value);
    }
  });

  it('hostile values stored and filtered through the store stay data', async () => {
    const database = `eventlog_test_${randomBytes(4).toString('hex')}`;
    const log = createEventLog({ store: createClickhouseStore({ url: url!, database }), presets: [conformancePreset], clock: () => NOW });
    try {
      const values = HOSTILE.filter((v) => v !== '' && v.length <= 128);
      await log.recordMany(values.map((v) => ({ type: 'llm.consumption', tenantId: v, message: v, actor: { name: v.slice(0, 255) } })));
      expect(await log.count()).toBe(values.length);
      for (const value of values) {
        expect(await log.count({ tenantId: value }), JSON.stringify(value)).toBe(1);
        const page = await log.query({ filter: { tenantId: value } });
        expect(page.items[0]?.message).toBe(value);
        expect(page.items[0]?.actor.name).toBe(value);
        expect(await log.count({ search: value }), `search ${JSON.stringify(value)}`).toBeGreaterThanOrEqual(1);
      }
      expect(await log.count({ search: '%' })).toBe(values.filter((v) => v.includes('%')).length);
      expect(await log.count({ search: '_' })).toBe(values.filter((v) => v.includes('_')).length);
      expect(await log.count({ search: '\\' })).toBe(values.filter((v) => v.includes('\\')).length);
      expect(await log.count({ tenantId: ["' OR '1'='1", 'nobody'] })).toBe(1);
      expect(await log.count({ tenantId: 'nobody' })).toBe(0);
      expect(await log.prune({ before: NOW + 1, filter: { tenantId: "x'); DROP TABLE eventlog_events; --" } })).toBe(1);
      expect(await log.count()).toBe(values.length - 1);
    } finally {
      await log.close();
      await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    }
  });
});
