import { generateKeyPairSync } from 'node:crypto';
import type { KyselyStore } from '@eventlog/adapters/kysely';
import type { Checkpoint, EventLog, Principal } from '@eventlog/core';
import { bearerToken, createHandler, findBySecret, type Handler } from '@eventlog/http';
import { native } from '@eventlog/http/native';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestHandler, createTestLog, ENVELOPES, expectRefusal, send } from '../../testing/profile-test-kit.js';

const T0 = Date.UTC(2026, 2, 25, 12, 0, 0);
const tokens: { token: string; principal: Principal }[] = [
  { token: 'admin-token', principal: { role: 'admin' } },
  { token: 'alice-token', principal: { role: 'user', id: 'alice' } },
];
const profile = native({ authenticate: (request) => findBySecret(bearerToken(request) ?? '', tokens, (t) => t.token)?.principal ?? null });
const post = (token: string, body: unknown) => ({
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

let log: EventLog;
let handler: Handler;

beforeEach(async () => {
  log = createTestLog({
    clock: () => T0,
    integrity: { chain: true, key: generateKeyPairSync('ed25519').privateKey, segment: { maxEvents: 4, maxAgeMs: 3_600_000 } },
  });
  handler = createTestHandler(log, [profile]);
  await log.recordMany(
    Array.from({ length: 10 }, (_, i) => ({ type: 'audit.change', tenantId: 'alice', message: `change ${i}`, time: T0 - i })),
  );
  await log.integrity.seal({ tenantId: 'alice' });
});
afterEach(() => log.close());

describe('native verify route', () => {
  it('reports a clean chain, then the row an attacker changed in SQL', async () => {
    const clean = await send(handler, 'http://x/eventlog/verify', post('admin-token', { tenantId: 'alice' }));
    expect(clean.status).toBe(200);
    expect(clean.body.data).toMatchObject({ ok: true, tenantId: 'alice', segmentsChecked: 2, rowsChecked: 10, sealedSeq: 8, headSeq: 10 });

    const { db, tables } = log.store as KyselyStore;
    const victim = await db.selectFrom(tables.events).select('id').where('chain_seq', '=', 6).executeTakeFirstOrThrow();
    await db.updateTable(tables.events).set({ message: 'rewritten' }).where('id', '=', victim.id).execute();
    const tampered = await send(handler, 'http://x/eventlog/verify', post('admin-token', { tenantId: 'alice' }));
    expect(tampered.status).toBe(200);
    expect(tampered.body.data).toMatchObject({ ok: false, firstBrokenSeq: 6, modified: [{ seq: 6, id: Number(victim.id) }] });
  });

  it('exports checkpoints that verify as anchors, and finds dropped newest rows against a head anchor', async () => {
    const exported = await send(handler, 'http://x/eventlog/checkpoints?tenantId=alice', {
      headers: { authorization: 'Bearer admin-token' },
    });
    expect(exported.status).toBe(200);
    const checkpoints = exported.body.data as Checkpoint[];
    expect(checkpoints.map((c) => [c.firstSeq, c.lastSeq])).toEqual([
      [1, 4],
      [5, 8],
    ]);
    const head = await log.integrity.head('alice');
    const { db, tables } = log.store as KyselyStore;
    await db.deleteFrom(tables.events).where('chain_seq', '>', 8).execute();
    const report = await send(
      handler,
      'http://x/eventlog/verify',
      post('admin-token', { tenantId: 'alice', anchors: [...checkpoints, head] }),
    );
    expect(report.body.data).toMatchObject({ ok: false, missingNewest: { fromSeq: 9, toSeq: 10 }, checkpointFailures: [] });
  });

  it('refuses non-admins, malformed bodies and bad fields in the native envelope', async () => {
    expectRefusal(await send(handler, 'http://x/eventlog/verify', post('alice-token', { tenantId: 'alice' })), ENVELOPES.native);
    expect((await send(handler, 'http://x/eventlog/verify', post('alice-token', { tenantId: 'alice' }))).status).toBe(403);
    expect((await send(handler, 'http://x/eventlog/checkpoints', { headers: { authorization: 'Bearer alice-token' } })).status).toBe(403);
    for (const body of [
      '[1,2]',
      '{"tenantId":',
      { tenantId: 7 },
      { tenantId: 'alice', anchors: [{ seq: -1 }] },
      { tenantId: 'alice', since: 'yesterday' },
    ]) {
      const response = await send(handler, 'http://x/eventlog/verify', post('admin-token', body));
      expectRefusal(response, ENVELOPES.native, JSON.stringify(body));
      expect(response.status).toBe(400);
    }
  });

  it('answers UNSUPPORTED in the native envelope when the log keeps no chains', async () => {
    const plain = createTestLog({ clock: () => T0 });
    try {
      // The plain handler: a 501 is the answer here, not a server fault to rethrow.
      const response = await send(
        createHandler({ log: plain, profiles: [profile] }),
        'http://x/eventlog/verify',
        post('admin-token', { tenantId: 'alice' }),
      );
      expect(response.status).toBe(501);
      expect(response.body).toMatchObject({ error: { code: 'UNSUPPORTED' } });
    } finally {
      await plain.close();
    }
  });
});
