import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '@eventlog/adapters/memory';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isEventLogError } from '../errors.js';
import { createEventLog } from '../event-log.js';
import type { EventLogOptions } from '../options.js';
import type { StoredEvent } from '../schema/event.js';
import { defineEventType } from '../schema/event-type.js';
import { definePreset } from '../schema/preset.js';
import type { EventStore } from '../storage/contract.js';
import { DEFAULT_REDACT_KEYS, DEFAULT_REDACT_PATTERNS, REDACTED } from './redact.js';

/** Every raw value the events below carry; none of them may be found anywhere after a write. */
const SECRETS = {
  email: 'alice.private@example.com',
  password: 'hunter2-Correct-Horse',
  apiKey: 'sk-RAWKEY0123456789abcdefXYZ',
  bearer: 'RawBearerToken987654321',
  queryToken: 'qTok-5551234',
  ipv4: '203.0.113.45',
  ipv6: '2001:db8:85a3:8d3:1319:8a2e:370:7348',
  cardNumber: '4111111111111111',
  displayName: 'Alice Private-Person',
};
const RAW = Object.values(SECRETS);

const signIn = defineEventType(
  'auth.sign_in',
  // The schema checks the real values: it sees the address and the password length before redaction.
  z.object({ user: z.object({ email: z.email(), name: z.string() }), password: z.string().min(8), method: z.string() }),
  { category: 'login' },
);
const proxyRequest = defineEventType(
  'proxy.request',
  z.object({ url: z.string(), headers: z.record(z.string(), z.string()), payment: z.object({ cardNumber: z.string() }).optional() }),
);
const internal = defineEventType('app.debug', z.object({ note: z.string() }));
const preset = definePreset({ name: 'privacy-test', types: [signIn, proxyRequest, internal], metrics: [{ name: 'bytes' }] });

const privacy: EventLogOptions['privacy'] = {
  maskIp: true,
  redact: {
    keys: DEFAULT_REDACT_KEYS,
    patterns: DEFAULT_REDACT_PATTERNS,
    patternFields: ['message', 'userAgent', 'data'],
    paths: ['data.user.name', 'actor.name'],
  },
  types: {
    'proxy.request': { maskIp: { ipv4Prefix: 16, ipv6Prefix: 32 } },
    'app.debug': { redact: false, maskIp: false },
  },
};

const signInEvent = {
  type: 'auth.sign_in' as const,
  tenantId: 't1',
  actor: { id: 'u1', type: 'user', name: SECRETS.displayName },
  ip: SECRETS.ipv4,
  userAgent: `curl/8.0 (Authorization: Bearer ${SECRETS.bearer})`,
  message: `sign-in by ${SECRETS.email} with ?password=${SECRETS.password}`,
  data: { user: { email: SECRETS.email, name: SECRETS.displayName }, password: SECRETS.password, method: 'password' },
};
const proxyEvent = {
  type: 'proxy.request' as const,
  tenantId: 't1',
  ip: SECRETS.ipv6,
  message: `GET https://api.example.com/v1?api_key=${SECRETS.queryToken}`,
  metrics: { bytes: 512 },
  data: {
    url: `https://api.example.com/v1?key=${SECRETS.apiKey}`,
    headers: { Authorization: `Bearer ${SECRETS.bearer}`, 'X-Api-Key': SECRETS.apiKey, Accept: 'application/json' },
    payment: { cardNumber: SECRETS.cardNumber },
  },
};

/** Passes every call through to a real store and keeps what the core handed to `insert` and `openSession`. */
function recordingStore(store: EventStore): { store: EventStore; received: string[] } {
  const received: string[] = [];
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'insert' || property === 'openSession') {
        return (arg: unknown) => {
          received.push(JSON.stringify(arg));
          return value.call(target, arg);
        };
      }
      return value.bind(target);
    },
  });
  return { store: proxy, received };
}

function leaks(text: string): string[] {
  return RAW.filter((raw) => text.includes(raw));
}

const dir = mkdtempSync(join(tmpdir(), 'eventlog-privacy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stores = [
  ['sqlite', (name: string) => createSqliteStore({ filename: join(dir, `${name}.db`) })],
  ['memory', () => createMemoryStore()],
] as const;

describe.each(stores)('privacy at write time on the %s store', (engine, makeStore) => {
  it('keeps every raw value out of the store, record() results, subscribers, recorded listeners, queries and exports', async () => {
    const file = `${engine}-all`;
    const { store, received } = recordingStore(makeStore(file));
    const log = createEventLog({ store, presets: [preset], privacy });
    const delivered: string[] = [];
    let recordedCount = 0;
    log.on('recorded', (events) => {
      recordedCount += events.length;
      delivered.push(JSON.stringify(events));
    });
    let subscribedCount = 0;
    const subscriber = (event: StoredEvent) => {
      subscribedCount++;
      delivered.push(JSON.stringify(event));
    };
    log.subscribe(undefined, subscriber);
    log.view({ principal: { role: 'user', id: 'u1', tenantId: 't1' } }).subscribe(undefined, subscriber);

    const one = await log.record(signInEvent);
    const many = await log.recordMany([proxyEvent, signInEvent]);
    const viewed = await log.view({ principal: { role: 'reseller', id: 'r1', tenantIds: ['t1'] } }).record(proxyEvent);
    await log.sessions.open({ ...signInEvent, sessionId: 's1' });
    await log.sessions.close('s1', { type: 'auth.sign_in', data: signInEvent.data });

    const returned = JSON.stringify([one, many, viewed]);
    expect(leaks(returned)).toEqual([]);
    // Six events: each reached both subscribers and the `recorded` listeners.
    expect([recordedCount, subscribedCount]).toEqual([6, 12]);
    expect(leaks(delivered.join('\n'))).toEqual([]);
    expect(received.length).toBeGreaterThan(0);
    expect(leaks(received.join('\n'))).toEqual([]);

    const page = await log.query({ pageSize: 100 });
    expect(page.total).toBe(6);
    expect(leaks(JSON.stringify(page.items))).toEqual([]);
    let csv = '';
    for await (const chunk of log.exportCsv({
      columns: [
        'time',
        'type',
        'ip',
        'userAgent',
        'message',
        'actorName',
        'data',
        { header: 'Email', value: (e) => JSON.stringify(e.data) },
      ],
    })) {
      csv += chunk;
    }
    expect(csv.split('\r\n').length).toBeGreaterThan(6);
    expect(leaks(csv)).toEqual([]);
    expect(csv).toContain(REDACTED);

    if (engine === 'memory') {
      const rows = await store.find({ where: [], orderBy: { column: 'id', direction: 'asc' }, limit: 1000 });
      expect(rows).toHaveLength(6);
      expect(leaks(JSON.stringify(rows))).toEqual([]);
    }
    await log.close();

    if (engine === 'sqlite') {
      const path = join(dir, `${file}.db`);
      const db = new Database(path, { readonly: true });
      const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
      let cells = 0;
      for (const { name } of tables) {
        for (const row of db.prepare(`select * from "${name.replaceAll('"', '""')}"`).all() as Record<string, unknown>[]) {
          for (const value of Object.values(row)) {
            cells++;
            expect(leaks(String(value)), `${name}: ${String(value)}`).toEqual([]);
          }
        }
      }
      expect(cells).toBeGreaterThan(6 * 20);
      db.close();
      // The bytes of the database files too: not even a freed page or the journal holds a raw value.
      for (const suffix of ['', '-wal', '-journal']) {
        if (existsSync(path + suffix)) expect(leaks(readFileSync(path + suffix).toString('latin1'))).toEqual([]);
      }
    }
  });

  it('masks at write with per-type prefix lengths, and read-time masking still applies on top', async () => {
    const log = createEventLog({ store: makeStore(`${engine}-mask`), presets: [preset], privacy });
    const signed = await log.record({ ...signInEvent, ip: SECRETS.ipv6 });
    const proxied = await log.record({ ...proxyEvent, ip: SECRETS.ipv4 });
    const proxied6 = await log.record(proxyEvent);
    const debug = await log.record({ type: 'app.debug', ip: SECRETS.ipv4, data: { note: `for ${SECRETS.email}` } });
    const mapped = await log.record({ ...signInEvent, ip: `::ffff:${SECRETS.ipv4}` });
    const garbage = await log.record({ ...signInEvent, ip: 'host.example.com' });
    expect([signed.ip, proxied.ip, proxied6.ip, debug.ip, mapped.ip, garbage.ip]).toEqual([
      '2001:db8:85a3::',
      '203.0.0.0',
      '2001:db8::',
      SECRETS.ipv4,
      '::ffff:203.0.113.0',
      null,
    ]);
    // A type with `redact: false` keeps its data as given.
    expect(debug.data).toEqual({ note: `for ${SECRETS.email}` });
    const stored = await log.query({ filter: { type: 'proxy.request' }, pageSize: 10 });
    expect(stored.items.map((e) => e.ip).sort()).toEqual(['2001:db8::', '203.0.0.0']);
    const masked = await log.view({ maskIp: true }).get(debug.id);
    expect(masked?.ip).toBe('203.0.113.0');
    expect((await log.top({ by: 'ip', filter: { type: 'proxy.request' } })).map((e) => e.value).sort()).toEqual([
      '2001:db8::',
      '203.0.0.0',
    ]);
    await log.close();
  });

  it('validates with the real values first, then redacts what is stored and returned', async () => {
    const log = createEventLog({ store: makeStore(`${engine}-validate`), presets: [preset], privacy });
    const tooShort = await log.record({ ...signInEvent, data: { ...signInEvent.data, password: 'short' } }).catch((e: unknown) => e);
    expect(isEventLogError(tooShort, 'VALIDATION_FAILED')).toBe(true);
    const notAnEmail = await log
      .record({ ...signInEvent, data: { ...signInEvent.data, user: { email: 'nope', name: 'x' } } })
      .catch((e: unknown) => e);
    expect(isEventLogError(notAnEmail, 'VALIDATION_FAILED')).toBe(true);
    expect(log.validate([signInEvent])).toEqual([]);

    const stored = await log.record(signInEvent);
    expect(stored.data).toEqual({ user: { email: REDACTED, name: REDACTED }, password: REDACTED, method: 'password' });
    expect(stored.actor).toEqual({ id: 'u1', type: 'user', name: REDACTED });
    expect(stored.message).toBe(`sign-in by ${REDACTED} with ?password=${REDACTED}`);
    expect(stored.userAgent).toBe(`curl/8.0 (Authorization: Bearer ${REDACTED})`);
    expect(await log.get(stored.id)).toEqual(stored);
    // Dimensions, metrics and counts are untouched.
    const proxied = await log.record(proxyEvent);
    expect(proxied.metrics.bytes).toBe(512);
    expect(proxied.data).toEqual({
      url: `https://api.example.com/v1?key=${REDACTED}`,
      headers: { Authorization: REDACTED, 'X-Api-Key': REDACTED, Accept: 'application/json' },
      payment: { cardNumber: REDACTED },
    });
    const stats = await log.stats({ type: 'proxy.request' });
    expect([stats.count, stats.sums.bytes]).toEqual([1, 512]);
    await log.close();
  });

  it('leaves events alone when the log has no privacy rules', async () => {
    const log = createEventLog({ store: makeStore(`${engine}-off`), presets: [preset] });
    const stored = await log.record(signInEvent);
    expect(stored.ip).toBe(SECRETS.ipv4);
    expect(stored.data).toEqual(signInEvent.data);
    expect((await log.get(stored.id))?.message).toBe(signInEvent.message);
    await log.close();
  });
});

describe('privacy options', () => {
  const store = () => createMemoryStore();

  it('refuses malformed rules when the log is created', () => {
    expect(() => createEventLog({ store: store(), privacy: { maskIp: { ipv4Prefix: 40 } } })).toThrow(
      /privacy\.maskIp\.ipv4Prefix must be a whole number from 0 to 32/,
    );
    expect(() => createEventLog({ store: store(), privacy: { maskIp: 'yes' as never } })).toThrow(/privacy\.maskIp must be/);
    expect(() => createEventLog({ store: store(), privacy: { redact: { paths: ['password'] } } })).toThrow(/privacy\.redact\.paths/);
    expect(() => createEventLog({ store: store(), privacy: { maskIP: true } as never })).toThrow(/privacy has no option "maskIP"/);
    expect(() => createEventLog({ store: store(), presets: [preset], privacy: { types: { 'proxy.requests': { maskIp: true } } } })).toThrow(
      /privacy\.types names "proxy\.requests", which is not a registered event type/,
    );
    expect(() =>
      createEventLog({ store: store(), presets: [preset], privacy: { types: { 'proxy.request': { maskIp: { ipv6Prefix: 129 } } } } }),
    ).toThrow(/privacy\.types\["proxy\.request"\]\.maskIp\.ipv6Prefix/);
  });

  it('offers the default rules with redact: true', async () => {
    const log = createEventLog({ store: store(), privacy: { redact: true } });
    const stored: StoredEvent = await log.record({
      type: 'x.y',
      message: `token for ${SECRETS.email}`,
      data: { Password: SECRETS.password, nested: [{ cookie: 'sid=1' }] },
    });
    expect(stored.message).toBe(`token for ${REDACTED}`);
    expect(stored.data).toEqual({ Password: REDACTED, nested: [{ cookie: REDACTED }] });
    await log.close();
  });

  it('lets a type turn on rules the log does not have', async () => {
    const log = createEventLog({ store: store(), privacy: { types: { 'audit.login': { redact: { keys: ['pin'] } } } } });
    const audit = await log.record({ type: 'audit.login', data: { pin: 1234 } });
    const other = await log.record({ type: 'other', data: { pin: 1234 } });
    expect([audit.data, other.data]).toEqual([{ pin: REDACTED }, { pin: 1234 }]);
    await log.close();
  });
});
