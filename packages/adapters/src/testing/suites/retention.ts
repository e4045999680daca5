import { csvLine, DEFAULT_CSV_FIELDS, type StoredEvent } from '@eventlog/core';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { DAY, HOUR, MINUTE, NOW } from '../fixtures.js';

/** Retention, export, scoping and privacy through the core API. */
export function retentionSuite(ctx: SuiteContext): void {
  const { test, setup, usage, fill } = ctx;
  describe('retention', () => {
    test('prune deletes only older events, in bounded batches, and reports the count', async () => {
      const { log } = await setup();
      await fill(log, 100);
      const pruned: number[] = [];
      log.on('pruned', (info) => pruned.push(info.deleted));
      const deleted = await log.prune({ before: NOW - 39 * MINUTE, batchSize: 7, pauseMs: 0 });
      expect(deleted).toBe(60);
      expect(pruned).toEqual([60]);
      expect(await log.count()).toBe(40);
      expect(await log.count({ until: NOW - 39 * MINUTE })).toBe(0);
    });

    test('prune honours an extra filter', async () => {
      const { log } = await setup();
      await fill(log, 30);
      expect(await log.prune({ before: NOW + 1, filter: { tenantId: 'tenant-0' } })).toBe(10);
      expect(await log.count()).toBe(20);
      // The filter's own range narrows further: only tenant-1 events older than 20 minutes go.
      expect(await log.prune({ before: NOW + 1, filter: { tenantId: 'tenant-1', until: NOW - 20 * MINUTE } })).toBe(3);
      expect(await log.count()).toBe(17);
    });

    test('the retention task prunes by age and takes an exclusive lock', async () => {
      const { log, store } = await setup({ retention: { maxAgeDays: 1 } });
      await log.recordMany([usage(0, { time: NOW - 2 * DAY }), usage(0, { time: NOW - 2 * HOUR })]);
      const maintenance = log.startMaintenance({ runOnStart: false });
      expect(await maintenance.run()).toBe(1);
      await maintenance.stop();
      expect(await log.count()).toBe(1);

      const first = await store.tryLock('retention', 60_000);
      expect(first).not.toBeNull();
      expect(await store.tryLock('retention', 60_000)).toBeNull();
      const busy = log.startMaintenance({ runOnStart: false });
      await log.record(usage(0, { time: NOW - 3 * DAY }));
      expect(await busy.run()).toBe(0);
      await first?.();
      expect(await busy.run()).toBe(1);
      await busy.stop();
    });
  });

  describe('export', () => {
    test('CSV export is RFC 4180, formula-safe, time-zone formatted and complete', async () => {
      const { log } = await setup();
      await fill(log, 25);
      await log.record(
        usage(0, { time: Date.UTC(2026, 6, 1, 12), message: '=HYPERLINK("http://evil")', actor: { id: '+1', name: 'a,b "c"\nd' } }),
      );
      let csv = '';
      for await (const chunk of log.exportCsv({
        timeZone: 'America/New_York',
        batchSize: 4,
        columns: ['id', 'time', 'message', 'actorId', 'actorName', 'quota', 'model_name'],
      }))
        csv += chunk;
      const lines = csv.split('\r\n');
      expect(lines[0]).toBe('id,time,message,actorId,actorName,quota,model_name');
      expect(lines.at(-1)).toBe('');
      expect(lines).toHaveLength(1 + 26 + 1); // header, 26 rows (the bare LF inside a quoted cell does not split), trailing CRLF
      expect(lines[1]).toContain('2026-07-01T08:00:00.000-04:00');
      expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
      expect(lines[1]).toContain(`'+1,"a,b ""c""`);
      expect(csv).toContain('2026-03-29T08:00:00.000-04:00,call 0 to model-0');
    });

    test('every export column says what query() says, data and masked addresses included', async () => {
      const { log } = await setup({ maskIp: true });
      const events = await fill(log, 12);
      await log.record(
        usage(40, {
          data: { other: { note: 'tab\there, "quoted"', n: 1.5, list: [1, null] } },
          durationMs: 12.25,
          dimensions: { model_name: null, channel: null },
          metrics: { quota: null, amount: -0.5 },
          actor: null,
          ip: '2001:db8::1',
        }),
      );
      const columns = [...DEFAULT_CSV_FIELDS, 'model_name', 'token_name', 'channel', 'quota', 'prompt_tokens', 'amount', 'data'];
      let csv = '';
      for await (const chunk of log.exportCsv({ columns, header: false, batchSize: 5 })) csv += chunk;
      const { items } = await log.query({ limit: 100 });
      expect(items).toHaveLength(events.length + 1);
      const canonical = (e: StoredEvent, name: string): unknown => {
        if (name === 'time') return new Date(e.time).toISOString(); // UTC is the default zone
        if (name.startsWith('actor')) return e.actor[name.slice(5).toLowerCase() as 'id' | 'type' | 'name'];
        if (name.startsWith('target')) return e.target[name.slice(6).toLowerCase() as 'id' | 'type' | 'name'];
        if (name in e.dimensions) return e.dimensions[name];
        if (name in e.metrics) return e.metrics[name];
        if (name === 'data') return e.data === undefined ? null : JSON.stringify(e.data);
        return (e as unknown as Record<string, unknown>)[name];
      };
      expect(csv).toBe(items.map((e) => csvLine(columns.map((name) => canonical(e, name)))).join(''));
      expect(csv).toContain(',2001:db8:0::,');
      expect(csv).not.toContain('2001:db8::1');
    });

    test('export filters, orders and rejects unknown columns', async () => {
      const { log } = await setup();
      await fill(log, 30);
      let csv = '';
      for await (const chunk of log.exportCsv({ filter: { tenantId: 'tenant-2' }, order: 'asc', header: false, columns: ['message'] }))
        csv += chunk;
      expect(csv.trim().split('\r\n')).toEqual([
        'call 29 to model-1',
        'call 26 to model-2',
        'call 23 to model-3',
        'call 20 to model-0',
        'call 17 to model-1',
        'call 14 to model-2',
        'call 11 to model-3',
        'call 8 to model-0',
        'call 5 to model-1',
        'call 2 to model-2',
      ]);
      expect(() => log.exportCsv({ columns: ['password'] })).toThrow(/not an exportable column/);
      expect(() => log.exportCsv({ timeZone: 'Nowhere/Land' })).toThrow(/time zone/);
    });
  });

  describe('scoping and privacy', () => {
    test('a scoped view never reads beyond its tenants, whatever the filter', async () => {
      const { log } = await setup();
      await fill(log, 60);
      await log.sessions.open({ type: 'connection.open', sessionId: 's0', tenantId: 'tenant-0' });
      await log.sessions.open({ type: 'connection.open', sessionId: 's1', tenantId: 'tenant-1' });
      const user = log.scoped({ role: 'user', id: 'tenant-1' });
      const reseller = log.scoped({ role: 'reseller', id: 'r1', tenantIds: ['tenant-0', 'tenant-1'] });
      const admin = log.scoped({ role: 'admin' });
      expect((await user.query()).total).toBe(21);
      expect((await user.query({ filter: { tenantId: 'tenant-2' } })).total).toBe(0);
      expect((await user.query({ filter: { tenantId: ['tenant-1', 'tenant-2'] } })).total).toBe(21);
      expect(await reseller.count()).toBe(42);
      expect(await admin.count()).toBe(62);
      expect((await user.stats()).count).toBe(21);
      expect(
        (await user.timeline({ bucket: 'day', filter: { since: NOW - DAY, until: NOW + 1 } })).points.reduce((n, p) => n + p.count, 0),
      ).toBe(21);
      expect((await user.top({ by: 'tenantId' })).map((t) => t.value)).toEqual(['tenant-1']);
      expect((await user.sessions.list()).map((s) => s.sessionId)).toEqual(['s1']);
      const other = await log.query({ filter: { tenantId: 'tenant-2' }, pageSize: 1 });
      expect(await user.latest({ filter: { tenantId: 'tenant-2' } })).toBeNull();
      expect(other.items[0]).toBeDefined();
      let csv = '';
      for await (const chunk of user.exportCsv({ columns: ['tenantId'], header: false })) csv += chunk;
      expect(new Set(csv.trim().split('\r\n'))).toEqual(new Set(['tenant-1']));
      const nobody = log.scoped({ role: 'reseller', id: 'r2', tenantIds: [] });
      expect(await nobody.count()).toBe(0);
    });

    test('scoped subscribers only see their tenants; unsubscribe stops delivery', async () => {
      const { log } = await setup();
      const seen: StoredEvent[] = [];
      const all: StoredEvent[] = [];
      const stop = log.scoped({ role: 'user', id: 'tenant-1' }).subscribe({ type: 'llm.consumption' }, (e) => seen.push(e));
      log.subscribe(undefined, (e) => all.push(e));
      await log.recordMany([usage(1), usage(2), usage(4), { type: 'auth.login', tenantId: 'tenant-1' }]);
      expect(seen.map((e) => e.tenantId)).toEqual(['tenant-1', 'tenant-1']);
      expect(all).toHaveLength(4);
      stop();
      await log.record(usage(7));
      expect(seen).toHaveLength(2);
      expect(all).toHaveLength(5);
    });

    test('IP masking hides the host part on every read path', async () => {
      const { log } = await setup({ maskIp: true });
      await log.record(usage(1, { ip: '203.0.113.45' }));
      await log.record(usage(2, { ip: '2001:db8:85a3:1234::7334' }));
      const items = (await log.query()).items.map((e) => e.ip);
      expect(items.sort()).toEqual(['2001:db8:85a3::', '203.0.113.0']);
      expect((await log.top({ by: 'ip' })).map((t) => t.value).sort()).toEqual(['2001:db8:85a3::', '203.0.113.0']);
      let csv = '';
      for await (const chunk of log.exportCsv({ columns: ['ip'], header: false })) csv += chunk;
      expect(csv).not.toContain('203.0.113.45');
    });
  });
}
