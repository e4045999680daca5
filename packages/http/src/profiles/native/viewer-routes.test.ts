import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import {
  createEventLog,
  defineEventType,
  definePreset,
  type EventLog,
  type EventStore,
  eventlogAuditPreset,
  type Principal,
} from '@eventlog/core';
import { bearerToken, createHandler, findBySecret, type Handler } from '@eventlog/http';
import { type NativeGrant, native } from '@eventlog/http/native';
import { toNodeHandler } from '@eventlog/http/node';
import { createViewerToken, viewerTokenAuth } from '@eventlog/http/viewer-token';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const SECRET = 'native-viewer-routes-secret-0123456789';
const login = defineEventType('auth.login', z.object({ method: z.string() }), { category: 'login' });
const gateway = definePreset({
  name: 'gateway',
  types: [login, defineEventType('llm.call', z.unknown(), { category: 'consumption' })],
  dimensions: [
    { name: 'model_name', indexed: true },
    { name: 'status_code', type: 'integer' },
  ],
  metrics: [{ name: 'prompt_tokens', tokens: true }, { name: 'completion_tokens', tokens: true }, { name: 'quota' }],
});

const servers: Server[] = [];
const logs: EventLog[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const log of logs.splice(0)) await log.close();
});

const hostTokens: { token: string; principal: Principal }[] = [
  { token: 'admin-token', principal: { role: 'admin', id: 'ops' } },
  { token: 'alice-token', principal: { role: 'user', id: 'alice' } },
];

async function serve(store: EventStore = createSqliteStore()): Promise<{ log: EventLog; base: string; handler: Handler }> {
  const log = createEventLog({ store, presets: [gateway, eventlogAuditPreset] });
  logs.push(log);
  const handler = createHandler({
    log,
    profiles: [
      native({
        authenticate: viewerTokenAuth({
          secret: SECRET,
          fallback: (request) => findBySecret(bearerToken(request) ?? '', hostTokens, (t) => t.token)?.principal ?? null,
        }),
      }),
    ],
  });
  const server = createServer(toNodeHandler(handler));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { log, handler, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/eventlog` };
}

const get = async (url: string, token: string, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const text = await response.text();
  return { status: response.status, text, body: (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : null };
};

describe('GET <prefix>/whoami', () => {
  it('tells a viewer token what it may see, and records eventlog.viewed with the principal', async () => {
    const { log, base } = await serve();
    const principal = { role: 'reseller', id: 'r1', tenantIds: ['acme', 'globex'] } as const;
    const token = await createViewerToken({ secret: SECRET, principal, ttl: '15m', filter: { category: 'login' } });
    const before = Date.now();
    const r = await get(`${base}/whoami`, token, { 'user-agent': 'viewer-test/1.0' });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ principal, expiresAt: expect.any(Number), filter: { category: 'login' }, readOnly: true });
    // JWT expiry has whole-second precision.
    expect(r.body.data.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    expect(r.body.data.expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);

    const viewed = (await log.query({ filter: { type: 'eventlog.viewed' } })).items;
    expect(viewed).toHaveLength(1);
    expect(viewed[0]).toMatchObject({
      category: 'audit',
      action: 'view',
      actor: { id: 'r1', type: 'reseller' },
      tenantId: null,
      userAgent: 'viewer-test/1.0',
      data: { principal, filter: { category: 'login' }, expiresAt: r.body.data.expiresAt },
    });
    // The token never lands in the audit trail.
    expect(JSON.stringify(viewed[0])).not.toContain(token);
  });

  it("answers a host credential with its principal, no expiry and no filter; a user's view is in its own tenant", async () => {
    const { log, base } = await serve();
    const admin = await get(`${base}/whoami`, 'admin-token');
    expect(admin.body.data).toEqual({ principal: { role: 'admin', id: 'ops' }, expiresAt: null, filter: null, readOnly: false });
    const alice = await get(`${base}/whoami`, 'alice-token');
    expect(alice.body.data.principal).toEqual({ role: 'user', id: 'alice' });
    const views = await get(`${base}/events?type=eventlog.viewed`, 'alice-token');
    expect(views.body.data).toEqual([expect.objectContaining({ tenantId: 'alice', actor: { id: 'alice', type: 'user', name: null } })]);
    expect(await log.count({ type: 'eventlog.viewed' })).toBe(2);
  });

  it('still answers when recording the audit event fails, and reports the failure on the log', async () => {
    const real = createSqliteStore();
    // The real store, refusing only rows of the audit type: the failure the request must survive.
    const store: EventStore = Object.assign(Object.create(real) as EventStore, {
      insert: (rows: Parameters<EventStore['insert']>[0]) =>
        rows.some((row) => row.type === 'eventlog.viewed') ? Promise.reject(new Error('disk full')) : real.insert(rows),
    });
    const { log, base } = await serve(store);
    const errors: unknown[] = [];
    log.on('error', (error) => errors.push(error));
    const r = await get(`${base}/whoami`, 'admin-token');
    expect(r.status).toBe(200);
    expect(r.body.data.principal).toEqual({ role: 'admin', id: 'ops' });
    expect(errors).toHaveLength(1);
    expect(await log.count({ type: 'eventlog.viewed' })).toBe(0);
  });
});

describe('GET <prefix>/schema', () => {
  it('lists the declared types with their category, the dimensions, the metrics and what TPM sums', async () => {
    const { base } = await serve();
    const r = await get(`${base}/schema`, await createViewerToken({ secret: SECRET, principal: { role: 'user', id: 'u' }, ttl: 60 }));
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({
      types: [
        { name: 'auth.login', category: 'login', severity: null, description: null },
        { name: 'eventlog.exported', category: 'audit', severity: null, description: 'Someone exported events as CSV.' },
        { name: 'eventlog.viewed', category: 'audit', severity: null, description: 'Someone opened a view of the log.' },
        { name: 'llm.call', category: 'consumption', severity: null, description: null },
      ],
      allowUnknownTypes: false,
      dimensions: [
        { name: 'model_name', type: 'string', indexed: true },
        { name: 'status_code', type: 'integer', indexed: false },
      ],
      metrics: [
        { name: 'prompt_tokens', type: 'integer', tokens: true },
        { name: 'completion_tokens', type: 'integer', tokens: true },
        { name: 'quota', type: 'integer', tokens: false },
      ],
      tpmMetrics: ['prompt_tokens', 'completion_tokens'],
    });
    expect((await fetch(`${base}/schema`)).status).toBe(401);
  });
});

describe('export auditing', () => {
  it('records eventlog.exported with the principal, both filters and the row count', async () => {
    const { log, base } = await serve();
    await log.recordMany([
      { type: 'auth.login', tenantId: 'alice', message: 'line one\r\nline "two"', data: { method: 'password' } },
      { type: 'auth.login', tenantId: 'alice', data: { method: 'sso' } },
      { type: 'auth.login', tenantId: 'bob', data: { method: 'sso' } },
      { type: 'llm.call', tenantId: 'alice' },
    ]);
    const token = await createViewerToken({
      secret: SECRET,
      principal: { role: 'user', id: 'alice' },
      ttl: 60,
      filter: { category: 'login' },
    });
    const csv = await get(`${base}/export.csv?columns=id,message&actorId=nobody,&search=`, token);
    expect(csv.status).toBe(200);
    const all = await get(`${base}/export.csv?columns=id,message`, token);
    expect(all.text.startsWith('id,message\r\n')).toBe(true);
    await log.flush();
    // The audit event is recorded once the stream ends, just after the answer's last byte.
    await expect.poll(() => log.count({ type: 'eventlog.exported' })).toBe(2);
    const exports = (await log.query({ filter: { type: 'eventlog.exported' }, sort: { field: 'id', direction: 'asc' } })).items;
    expect(exports[1]).toMatchObject({
      category: 'audit',
      action: 'export',
      outcome: 'success',
      actor: { id: 'alice', type: 'user' },
      tenantId: 'alice',
      message: 'user alice exported 2 events as CSV',
      data: { principal: { role: 'user', id: 'alice' }, fixedFilter: { category: 'login' }, filter: {}, rows: 2, completed: true },
    });
    expect(exports[0]!.data).toMatchObject({ rows: 0, filter: { actorId: ['nobody'] } });
  });
});

describe('registering the audit events', () => {
  it('refuses at startup a log that registers types but not eventlogAuditPreset, and accepts one that accepts any type', () => {
    const strict = createEventLog({ store: createSqliteStore(), presets: [gateway] });
    logs.push(strict);
    expect(() => createHandler({ log: strict, profiles: [native({ authenticate: () => null })] })).toThrow(
      'Profile "native" reads type "eventlog.viewed", type "eventlog.exported", which the log does not declare; pass its preset: createEventLog({ presets: [eventlogAuditPreset] }).',
    );
    const open = createEventLog({ store: createSqliteStore() });
    logs.push(open);
    expect(() => createHandler({ log: open, profiles: [native({ authenticate: () => null })] })).not.toThrow();
  });

  it('lets a host hook return a grant of its own, with a fixed filter and read-only flag', async () => {
    const log = createEventLog({ store: createSqliteStore() });
    logs.push(log);
    await log.recordMany([
      { type: 'a', tenantId: 't1' },
      { type: 'b', tenantId: 't1' },
    ]);
    const grant: NativeGrant = { principal: { role: 'user', id: 't1' }, filter: { type: 'a' }, readOnly: true };
    const handler = createHandler({ log, profiles: [native({ authenticate: () => grant, canWrite: () => true })] });
    const list = await (await handler(new Request('http://x/eventlog/events?type=a,b'))).json();
    expect(list.data.map((e: { type: string }) => e.type)).toEqual(['a']);
    const write = await handler(
      new Request('http://x/eventlog/events', { method: 'POST', body: '{"type":"a"}', headers: { 'content-type': 'application/json' } }),
    );
    expect(write.status).toBe(403);
  });
});
