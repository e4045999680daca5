import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isEventLogError } from '../errors.js';
import { createEventLog } from '../event-log.js';
import type { StoredEvent } from '../schema/event.js';
import type { EventLog } from '../types.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const MIN = 60_000;

let log: EventLog;

beforeEach(async () => {
  log = createEventLog({
    store: createSqliteStore(),
    clock: () => NOW,
    dimensions: [{ name: 'model' }],
    metrics: [{ name: 'tokens', tokens: true }],
  });
  const events = [];
  for (let i = 0; i < 24; i++) {
    events.push({
      type: i % 2 === 0 ? 'login' : 'request',
      category: i % 3 === 0 ? 'security' : 'traffic',
      time: NOW - (24 - i) * MIN,
      tenantId: ['t1', 't2', 't3'][i % 3],
      actor: { id: `u${i % 4}` },
      message: `event ${i}`,
      dimensions: { model: i % 4 === 0 ? 'big' : 'small' },
      metrics: { tokens: i },
    });
  }
  await log.recordMany(events);
});

afterEach(async () => {
  await log.close();
});

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let all = '';
  for await (const chunk of chunks) all += chunk;
  return all;
}

describe('a view with a fixed filter', () => {
  const reseller = { role: 'reseller', id: 'r1', tenantIds: ['t1', 't2'] } as const;

  it('ANDs the filter into every read, and a caller filter only narrows it', async () => {
    const view = log.view({ principal: reseller, filter: { type: 'login' } });
    // The same question asked of the whole log, for comparison.
    const expected = (await log.query({ filter: { type: 'login', tenantId: ['t1', 't2'] }, limit: 100 })).items;
    expect(expected.length).toBeGreaterThan(0);

    const all = await view.query({ limit: 100 });
    expect(all.items.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    // A filter naming another type or tenant does not widen the view: it selects nothing.
    expect((await view.query({ filter: { type: 'request' }, limit: 100 })).items).toEqual([]);
    expect((await view.query({ filter: { type: ['login', 'request'], tenantId: ['t3'] }, limit: 100 })).items).toEqual([]);
    expect(await view.count({ type: 'request' })).toBe(0);
    expect(await view.count()).toBe(expected.length);

    const stats = await view.stats();
    expect(stats.count).toBe(expected.length);
    expect(stats.sums.tokens).toBe(expected.reduce((s, e) => s + (e.metrics.tokens ?? 0), 0));
    expect((await view.stats({ type: 'request' })).count).toBe(0);

    const timeline = await view.timeline({ bucket: 'hour', filter: { since: NOW - 2 * 60 * MIN, until: NOW } });
    expect(timeline.points.reduce((s, p) => s + p.count, 0)).toBe(expected.length);

    const top = await view.top({ by: 'type' });
    expect(top).toEqual([expect.objectContaining({ value: 'login', count: expected.length })]);
    const tenants = await view.top({ by: 'tenantId', filter: { tenantId: ['t1', 't2', 't3'] } });
    expect(tenants.map((t) => t.value).sort()).toEqual(['t1', 't2']);

    const csv = await text(view.exportCsv({ columns: ['id', 'type', 'tenantId'], order: 'asc' }));
    const rows = csv.trim().split('\r\n').slice(1);
    expect(rows).toHaveLength(expected.length);
    expect(rows.every((r) => /,login,t[12]$/.test(r))).toBe(true);
    expect(await text(view.exportCsv({ columns: ['id'], filter: { type: 'request' } }))).toBe('id\r\n');
  });

  it('hides events outside it from get() and latest()', async () => {
    const view = log.view({ principal: reseller, filter: { category: 'security' } });
    const outside = (await log.query({ filter: { category: 'traffic', tenantId: 't2' }, limit: 1 })).items[0]!;
    const inside = (await log.query({ filter: { category: 'security', tenantId: 't1' }, limit: 1 })).items[0]!;
    expect(await view.get(outside.id)).toBeNull();
    expect((await view.get(inside.id))?.id).toBe(inside.id);
    const latest = await view.latest({ filter: { tenantId: ['t1', 't2'] } });
    expect(latest?.category).toBe('security');
  });

  it('filters live subscribers', async () => {
    const view = log.view({ principal: reseller, filter: { type: 'login', dimensions: { model: 'big' } } });
    const seen: StoredEvent[] = [];
    const stop = view.subscribe({ tenantId: ['t1', 't3'] }, (event) => seen.push(event));
    await log.record({ type: 'login', tenantId: 't3', dimensions: { model: 'big' }, message: 'foreign tenant' });
    await log.record({ type: 'request', tenantId: 't1', dimensions: { model: 'big' }, message: 'other type' });
    await log.record({ type: 'login', tenantId: 't1', dimensions: { model: 'small' }, message: 'other model' });
    await log.record({ type: 'login', tenantId: 't1', dimensions: { model: 'big' }, message: 'mine' });
    stop();
    expect(seen.map((e) => e.message)).toEqual(['mine']);
  });

  it('limits open sessions, on session columns and on their opening events', async () => {
    await log.sessions.open({ type: 'dj.connect', sessionId: 's1', tenantId: 't1', category: 'dj', time: NOW - 3 * MIN });
    await log.sessions.open({ type: 'dj.connect', sessionId: 's2', tenantId: 't1', category: 'listener', time: NOW - 2 * MIN });
    await log.sessions.open({ type: 'dj.connect', sessionId: 's3', tenantId: 't3', category: 'dj', time: NOW - MIN });
    await log.sessions.open({ type: 'dj.connect', sessionId: 's4', tenantId: 't2', category: 'dj', time: NOW - MIN / 2 });
    const byCategory = log.view({ principal: reseller, filter: { category: 'dj' } });
    expect((await byCategory.sessions.list()).map((s) => s.sessionId)).toEqual(['s1', 's4']);
    expect((await byCategory.sessions.list({ limit: 1, offset: 1 })).map((s) => s.sessionId)).toEqual(['s4']);
    expect((await byCategory.sessions.list({ filter: { tenantId: 't3' } })).map((s) => s.sessionId)).toEqual([]);
    const byTenant = log.view({ filter: { tenantId: 't1' } });
    expect((await byTenant.sessions.list()).map((s) => s.sessionId)).toEqual(['s1', 's2']);
  });

  it('refuses a time bound and undeclared names with a ValidationError', () => {
    const bounded = (() => {
      try {
        log.view({ filter: { type: 'login', since: NOW - MIN } });
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(isEventLogError(bounded, 'VALIDATION_FAILED')).toBe(true);
    expect((bounded as { issues: { path: unknown[] }[] }).issues[0]!.path).toEqual(['filter', 'since']);
    expect(() => log.view({ filter: { dimensions: { nope: 'x' } } })).toThrow(/filter\.dimensions\.nope|declared dimension/);
    expect(() => log.view({ filter: 'login' as never })).toThrow();
  });
});
