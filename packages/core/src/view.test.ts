import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { describe, expect, it } from 'vitest';
import { isEventLogError } from './errors.js';
import { createEventLog } from './event-log.js';
import { csvLine } from './export/csv.js';
import type { StoredEvent } from './schema/event.js';

const NOW = Date.UTC(2026, 2, 29, 12, 0, 0);
const newLog = (maskIp = false) =>
  createEventLog({ store: createSqliteStore(), clock: () => NOW, maskIp, metrics: [{ name: 'bytes' }], dimensions: [{ name: 'host' }] });

async function csvOf(chunks: AsyncIterable<string>): Promise<string> {
  let csv = '';
  for await (const chunk of chunks) csv += chunk;
  return csv;
}

describe('log.view: write scoping', () => {
  it('an admin view and the log itself write anywhere', async () => {
    const log = newLog();
    await log.view({ principal: { role: 'admin' } }).record({ type: 'a', tenantId: 't9' });
    await log.record({ type: 'a', tenantId: 't8' });
    expect((await log.query({ sort: { field: 'id', direction: 'asc' } })).items.map((e) => e.tenantId)).toEqual(['t9', 't8']);
    await log.close();
  });

  it("a user's events always carry the user's tenant", async () => {
    const log = newLog();
    const user = log.view({ principal: { role: 'user', id: 'u1' } });
    const one = await user.record({ type: 'a', tenantId: 'someone-else' });
    const many = await user.recordMany([{ type: 'a' }, { type: 'b', tenantId: 'x' }]);
    expect([one, ...many].map((e) => e.tenantId)).toEqual(['u1', 'u1', 'u1']);
    const withTenant = log.view({ principal: { role: 'user', id: 'u2', tenantId: 'acme' } });
    expect((await withTenant.record({ type: 'a' })).tenantId).toBe('acme');
    expect(await log.count({ tenantId: 'u1' })).toBe(3);
    await log.close();
  });

  it('a reseller writes only into its tenants, and gets its only tenant when it names none', async () => {
    const log = newLog();
    const single = log.view({ principal: { role: 'reseller', id: 'r1', tenantIds: ['t1'] } });
    expect((await single.record({ type: 'a' })).tenantId).toBe('t1');
    const reseller = log.view({ principal: { role: 'reseller', id: 'r2', tenantIds: ['t1', 't2'] } });
    expect((await reseller.record({ type: 'a', tenantId: 't2' })).tenantId).toBe('t2');

    const missing = await reseller.record({ type: 'a' }).catch((e: unknown) => e);
    expect(isEventLogError(missing, 'FORBIDDEN')).toBe(true);
    expect((missing as Error).message).toBe('tenantId: must name one of your tenants');

    const foreign = await reseller
      .recordMany([
        { type: 'a', tenantId: 't1' },
        { type: 'a', tenantId: 't3' },
      ])
      .catch((e: unknown) => e);
    expect(isEventLogError(foreign, 'FORBIDDEN')).toBe(true);
    expect((foreign as Error).message).toBe('events[1].tenantId: must name one of your tenants');
    // All or nothing: the valid first event of the refused batch was not stored either.
    expect(await log.count()).toBe(2);
    await log.close();
  });

  it('validate reports schema problems by index and refuses events outside the tenants as FORBIDDEN', async () => {
    const log = newLog();
    const reseller = log.view({ principal: { role: 'reseller', id: 'r', tenantIds: ['t1', 't2'] } });
    const invalid = reseller.validate([
      { type: 'a', tenantId: 't1' },
      { type: '', tenantId: 't2' },
    ]);
    expect(invalid.map((i) => i.index)).toEqual([1]);
    let refused: unknown;
    try {
      reseller.validate([{ type: 'a', tenantId: 't1' }, { type: 'a', tenantId: 'nope' }, { type: '' }]);
    } catch (error) {
      refused = error;
    }
    expect(isEventLogError(refused, 'FORBIDDEN')).toBe(true);
    expect((refused as Error).message).toBe('events[1].tenantId: must name one of your tenants');
    expect(log.view().validate([{ type: 'a', tenantId: 'nope' }])).toEqual([]);
    await log.close();
  });

  it('reads are scoped like scoped(), which stays as an alias', async () => {
    const log = newLog();
    await log.recordMany([
      { type: 'a', tenantId: 't1' },
      { type: 'a', tenantId: 't2' },
      { type: 'a', tenantId: 't2' },
    ]);
    const view = log.view({ principal: { role: 'user', id: 't2' } });
    expect(await view.count()).toBe(2);
    expect(await log.scoped({ role: 'user', id: 't2' }).count()).toBe(2);
    expect((await view.query({ filter: { tenantId: 't1' } })).total).toBe(0);
    await log.close();
  });

  it('rejects a malformed principal or option with a typed error', async () => {
    const log = newLog();
    expect(() => log.view({ principal: { role: 'owner' } as never })).toThrow(/principal\.role: must be admin, reseller or user/);
    expect(() => log.view({ maskIp: 'yes' as never })).toThrow(/maskIp: must be true or false/);
    await log.close();
  });
});

describe('log.view: IP masking', () => {
  it('masks every event a view returns: record, query, get, latest, subscribe and sessions', async () => {
    const log = newLog();
    const view = log.view({ maskIp: true });
    const seen: StoredEvent[] = [];
    const raw: StoredEvent[] = [];
    view.subscribe(undefined, (e) => seen.push(e));
    log.subscribe(undefined, (e) => raw.push(e));
    const stored = await view.record({ type: 'a', ip: '203.0.113.45', target: { type: 'stream', id: 's1' } });
    expect(stored.ip).toBe('203.0.113.0');
    expect((await view.query()).items.map((e) => e.ip)).toEqual(['203.0.113.0']);
    expect((await view.get(stored.id))?.ip).toBe('203.0.113.0');
    expect((await view.latest({ target: { id: 's1' } }))?.ip).toBe('203.0.113.0');
    expect(seen.map((e) => e.ip)).toEqual(['203.0.113.0']);
    expect(raw.map((e) => e.ip)).toEqual(['203.0.113.45']);
    await log.sessions.open({ type: 'connection.open', sessionId: 'c1', ip: '2001:db8:85a3:1234::7334' });
    expect((await view.sessions.list()).map((s) => s.event.ip)).toEqual(['2001:db8:85a3::']);
    // The log itself does not mask unless its own option says so.
    expect((await log.get(stored.id))?.ip).toBe('203.0.113.45');
    expect((await log.sessions.list()).map((s) => s.event.ip)).toEqual(['2001:db8:85a3:1234::7334']);
    await log.close();
  });

  it("defaults to the log's maskIp option, and a view may turn it off", async () => {
    const log = newLog(true);
    await log.record({ type: 'a', ip: '198.51.100.7' });
    expect((await log.query()).items[0]?.ip).toBe('198.51.100.0');
    expect((await log.view({ principal: { role: 'admin' } }).query()).items[0]?.ip).toBe('198.51.100.0');
    expect((await log.view({ maskIp: false }).query()).items[0]?.ip).toBe('198.51.100.7');
    await log.close();
  });

  it('masks the ip column of exports, for named columns and for mapped ones', async () => {
    const log = newLog();
    await log.record({ type: 'a', ip: '203.0.113.45' });
    const view = log.view({ maskIp: true });
    const named = await csvOf(view.exportCsv({ columns: ['ip'], header: false }));
    expect(named).toBe('203.0.113.0\r\n');
    const mapped = await csvOf(view.exportCsv({ columns: [{ header: 'Client', value: (e) => e.ip }], header: false }));
    expect(mapped).toBe('203.0.113.0\r\n');
    expect(await csvOf(log.exportCsv({ columns: ['ip'], header: false }))).toBe('203.0.113.45\r\n');
    await log.close();
  });

  it('merges top-N entries that mask to the same address, adding counts and sums', async () => {
    const log = newLog();
    await log.recordMany([
      { type: 'a', ip: '203.0.113.1', metrics: { bytes: 10 } },
      { type: 'a', ip: '203.0.113.2', metrics: { bytes: 20 } },
      { type: 'a', ip: '203.0.113.2', metrics: { bytes: 5 } },
      { type: 'a', ip: '198.51.100.9', metrics: { bytes: 100 } },
      { type: 'a', ip: '198.51.100.9', metrics: { bytes: 1 } },
    ]);
    const view = log.view({ maskIp: true });
    expect(await view.top({ by: 'ip' })).toEqual([
      { value: '203.0.113.0', count: 3, sums: { bytes: 35 } },
      { value: '198.51.100.0', count: 2, sums: { bytes: 101 } },
    ]);
    expect((await view.top({ by: 'ip', orderBy: 'bytes' })).map((t) => t.value)).toEqual(['198.51.100.0', '203.0.113.0']);
    // Other columns are never rewritten.
    expect((await view.top({ by: 'type' }))[0]).toEqual({ value: 'a', count: 5, sums: { bytes: 136 } });
    await log.close();
  });
});

describe('exportCsv column mappings', () => {
  it('writes a header and a cell per mapping, mixed with named columns, in keyset order', async () => {
    const log = newLog();
    await log.recordMany([
      { type: 'door.unlock', time: NOW - 2000, actor: { id: 'u1', name: 'Ann' }, dimensions: { host: 'h1' }, data: { door: 'front' } },
      { type: 'door.unlock', time: NOW - 1000, actor: { id: 'u2' }, metrics: { bytes: 3 } },
    ]);
    const csv = await csvOf(
      log.exportCsv({
        order: 'asc',
        batchSize: 1,
        columns: [
          'id',
          { header: 'Who', value: (e) => e.actor.name ?? e.actor.id },
          { header: 'Door', value: (e) => (e.data as { door?: string } | undefined)?.door },
          { header: 'Bytes', value: (e) => e.metrics.bytes },
          { header: 'Hosted', value: (e) => e.dimensions.host !== null },
        ],
      }),
    );
    expect(csv).toBe(['id,Who,Door,Bytes,Hosted\r\n', '1,Ann,front,,true\r\n', '2,u2,,3,false\r\n'].join(''));
    await log.close();
  });

  it('keeps mapped cells safe from formula injection and quotes them per RFC 4180', async () => {
    const log = newLog();
    await log.record({ type: 'a', message: '=HYPERLINK("http://evil")' });
    const csv = await csvOf(
      log.exportCsv({
        columns: [
          { header: '=cmd|header', value: (e) => e.message },
          { header: 'Note', value: () => '+1,"a,b"' },
          { header: 'At', value: () => '@SUM(A1)' },
        ],
      }),
    );
    expect(csv).toBe(csvLine(['=cmd|header', 'Note', 'At']) + csvLine(['=HYPERLINK("http://evil")', '+1,"a,b"', '@SUM(A1)']));
    expect(csv).toBe(`'=cmd|header,Note,At\r\n"'=HYPERLINK(""http://evil"")","'+1,""a,b""",'@SUM(A1)\r\n`);
    await log.close();
  });

  it('rejects a malformed mapping when called', async () => {
    const log = newLog();
    expect(() => log.exportCsv({ columns: [{ header: 'x', value: 'nope' } as never] })).toThrow(/columns/);
    expect(() => log.exportCsv({ columns: ['nope'] })).toThrow(/not an exportable column/);
    await log.close();
  });
});

describe('log.limits', () => {
  it('are the resolved limits, defaults filled in, read-only', async () => {
    const log = createEventLog({ store: createSqliteStore(), limits: { maxPageSize: 200, maxOffset: 5000 } });
    expect(log.limits).toEqual({
      defaultPageSize: 50,
      maxPageSize: 200,
      maxOffset: 5000,
      maxTimelineBuckets: 5000,
      maxTopLimit: 1000,
      maxBatchEvents: 100_000,
      maxDataDepth: 20,
      maxDataBytes: 65_536,
    });
    expect(Object.isFrozen(log.limits)).toBe(true);
    const error = await log.query({ pageSize: log.limits.maxPageSize + 1 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('pageSize: must be at most 200');
    await log.close();
  });
});
