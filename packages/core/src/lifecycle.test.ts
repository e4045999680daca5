import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { describe, expect, it } from 'vitest';
import { isEventLogError } from './errors.js';
import { createEventLog } from './event-log.js';
import type { EventLogOptions, InternalOptions } from './options.js';
import type { EventStore } from './storage/contract.js';
import { storeDefaults } from './storage/defaults.js';

const NOW = Date.UTC(2026, 2, 29, 12, 0, 0);

async function rejection(run: () => unknown): Promise<unknown> {
  try {
    const result = run();
    if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
      for await (const _ of result as AsyncIterable<unknown>) {
        // drain
      }
    }
    await result;
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('a closed log', () => {
  it('rejects every method with CLOSED on SQLite, the log and its views alike', async () => {
    const log = createEventLog({ store: createSqliteStore(), clock: () => NOW, retention: { maxAgeDays: 30 } });
    await log.record({ type: 'a', tenantId: 't1', target: { id: 's1' } });
    await log.sessions.open({ type: 'connection.open', sessionId: 'c1' });
    const view = log.view({ principal: { role: 'user', id: 't1' }, maskIp: true });
    await log.close();
    const calls: [string, () => unknown][] = [
      ['ready', () => log.ready()],
      ['query', () => log.query()],
      ['query (cursor)', () => log.query({ limit: 5 })],
      ['count', () => log.count()],
      ['get', () => log.get(1)],
      ['stats', () => log.stats()],
      ['timeline', () => log.timeline()],
      ['top', () => log.top({ by: 'type' })],
      ['latest', () => log.latest({ target: { id: 's1' } })],
      ['exportCsv', () => log.exportCsv()],
      ['record', () => log.record({ type: 'a' })],
      ['recordMany', () => log.recordMany([{ type: 'a' }])],
      ['flush', () => log.flush()],
      ['prune', () => log.prune({ before: NOW })],
      ['sessions.list', () => log.sessions.list()],
      ['sessions.open', () => log.sessions.open({ type: 'connection.open', sessionId: 'c2' })],
      ['sessions.close', () => log.sessions.close('c1')],
      ['subscribe', () => log.subscribe(undefined, () => undefined)],
      ['startMaintenance', () => log.startMaintenance()],
      ['view.query', () => view.query()],
      ['view.count', () => view.count()],
      ['view.get', () => view.get(1)],
      ['view.stats', () => view.stats()],
      ['view.timeline', () => view.timeline()],
      ['view.top', () => view.top({ by: 'ip' })],
      ['view.latest', () => view.latest({})],
      ['view.exportCsv', () => view.exportCsv({ columns: [{ header: 'x', value: (e) => e.id }] })],
      ['view.record', () => view.record({ type: 'a' })],
      ['view.recordMany', () => view.recordMany([{ type: 'a' }])],
      ['view.sessions.list', () => view.sessions.list()],
      ['view(...)', () => log.view().count()],
      ['scoped(...)', () => log.scoped({ role: 'admin' }).count()],
    ];
    for (const [name, call] of calls) {
      const error = await rejection(call);
      expect(isEventLogError(error, 'CLOSED'), `${name}: ${String(error)}`).toBe(true);
    }
    // Closing twice is fine.
    await expect(log.close()).resolves.toBeUndefined();
  });

  it('turns a read that was running when the log closed into CLOSED, not a driver error', async () => {
    const store = createSqliteStore();
    const log = createEventLog({ store });
    await log.recordMany(Array.from({ length: 50 }, () => ({ type: 'a' })));
    const pages = log.exportCsv({ batchSize: 1 })[Symbol.asyncIterator]();
    await pages.next();
    await pages.next();
    await log.close();
    const error = await pages.next().catch((e: unknown) => e);
    expect(isEventLogError(error, 'CLOSED')).toBe(true);
  });
});

describe("an 'error' event nobody listens to", () => {
  it('writes one warning line a minute to stderr, naming the error, how to listen, and what it held back', async () => {
    let now = NOW;
    const lines: string[] = [];
    const options: EventLogOptions & InternalOptions = { store: createSqliteStore(), clock: () => now, warn: (line) => lines.push(line) };
    const log = createEventLog(options);
    log.emit('error', new Error('database is gone'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Error: database is gone');
    expect(lines[0]).toContain("log.on('error'");
    expect(lines[0]).not.toContain('\n');
    now += 30_000;
    log.emit('error', new Error('second'));
    log.emit('error', 'third');
    expect(lines).toHaveLength(1);
    now += 30_000;
    log.emit('error', new Error('fourth'));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('Error: fourth');
    expect(lines[1]).toContain('2 more since the last warning were not shown');
    now += 60_000;
    log.emit('error', new Error('fifth'));
    expect(lines[2]).not.toContain('more since');

    const heard: unknown[] = [];
    log.on('error', (error) => heard.push(error));
    now += 60_000;
    log.emit('error', new Error('heard'));
    expect(heard).toHaveLength(1);
    expect(lines).toHaveLength(3);
    await log.close();
  });

  it('covers errors from a throwing subscriber too', async () => {
    const lines: string[] = [];
    const options: EventLogOptions & InternalOptions = { store: createSqliteStore(), clock: () => NOW, warn: (line) => lines.push(line) };
    const log = createEventLog(options);
    log.subscribe(undefined, () => {
      throw new Error('listener bug');
    });
    await log.record({ type: 'a' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('listener bug');
    await log.close();
  });
});

describe('stores without the optional members', () => {
  it('get an in-process lock and no retries from the core, and still run retention', async () => {
    const { tryLock: _lock, isTransientError: _transient, ...rest } = createSqliteStore();
    const store: EventStore = rest;
    const defaults = storeDefaults(store);
    const release = await defaults.tryLock('retention', 60_000);
    expect(release).not.toBeNull();
    expect(await defaults.tryLock('retention', 60_000)).toBeNull();
    expect(await storeDefaults({ ...rest }).tryLock('retention', 60_000)).not.toBeNull();
    await release?.();
    expect(await defaults.tryLock('retention', 60_000)).not.toBeNull();
    expect(defaults.isTransientError(new Error('SQLITE_BUSY'))).toBe(false);

    const log = createEventLog({ store: { ...rest }, clock: () => NOW, retention: { maxAgeDays: 1 } });
    await log.recordMany([
      { type: 'a', time: NOW - 3 * 86_400_000 },
      { type: 'a', time: NOW },
    ]);
    const maintenance = log.startMaintenance({ runOnStart: false });
    expect(await maintenance.run()).toBe(1);
    await maintenance.stop();
    expect(await log.count()).toBe(1);
    await log.close();
  });

  it('keep their own when they have them', () => {
    const store = createSqliteStore();
    expect(storeDefaults(store).isTransientError(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }))).toBe(
      store.isTransientError(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' })),
    );
  });
});
