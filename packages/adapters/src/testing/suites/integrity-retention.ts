import { generateKeyPairSync } from 'node:crypto';
import { type Checkpoint, createEventLog, type StorageAdapter } from '@eventlog/core';
import { expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { conformancePreset, DAY, MINUTE, NOW } from '../fixtures.js';
import type { Tamperer } from '../integrity-tamper.js';
import { clean, NOTHING } from './integrity-report.js';

const { privateKey } = generateKeyPairSync('ed25519');
const TENANT = 'acme';

/** Retention on chained logs: jobs delete chained events only in whole sealed segments, and verify keeps passing. */
export function integrityRetentionSuite(ctx: SuiteContext, tamperer: (store: StorageAdapter) => Tamperer): void {
  const { test } = ctx;

  test('integrity: a prune across a partial segment deletes only whole sealed segments, and verify passes after it', async () => {
    // Chained: audit events; unchained: usage events, which go as selected.
    const { log } = await ctx.setup({
      integrity: { chain: { types: ['auth.login'] }, key: privateKey, segment: { maxEvents: 5, maxAgeMs: 3_600_000 } },
    });
    const logins = Array.from({ length: 12 }, (_, i) => ({ type: 'auth.login', tenantId: TENANT, time: NOW - (12 - i) * MINUTE }));
    await log.recordMany([...logins, ...Array.from({ length: 6 }, (_, i) => ctx.usage(i, { tenantId: TENANT, time: NOW - 20 * MINUTE }))]);
    await log.integrity.seal({ tenantId: TENANT });
    const checkpoints = await log.integrity.exportCheckpoints({ tenantId: TENANT });
    expect(checkpoints.map((c) => [c.firstSeq, c.lastSeq])).toEqual([
      [1, 5],
      [6, 10],
    ]);
    const anchor = (await log.integrity.head(TENANT)) as NonNullable<Awaited<ReturnType<typeof log.integrity.head>>>;

    // Logins 1–8 are older than the cutoff: segment 1–5 is whole, 6–10 only partly selected.
    const first = await log.jobs.prune({ before: NOW - 4 * MINUTE - 30_000, pauseMs: 0 });
    expect(first).toMatchObject({ status: 'succeeded', processed: 6 + 5 });
    expect(first.chains).toEqual({ kept: 3, tenants: [{ tenantId: TENANT, throughSeq: 5, stoppedBy: 'partial' }], truncated: false });
    expect(await log.count({ type: 'llm.consumption' })).toBe(0);
    expect(await log.count({ type: 'auth.login' })).toBe(7);
    let report = await log.verify({ tenantId: TENANT, anchors: [anchor, ...checkpoints] });
    expect(clean(report)).toEqual(NOTHING);
    expect(report.ok).toBe(true);
    expect(report.segmentsPruned).toBe(1);
    const proof = (c: Checkpoint) => ({
      firstSeq: c.firstSeq,
      lastSeq: c.lastSeq,
      count: c.count,
      firstTime: c.firstTime,
      lastTime: c.lastTime,
      merkleRoot: c.merkleRoot,
    });
    expect(report.pruned).toEqual([proof(checkpoints[0] as Checkpoint)]);

    // Everything selected: the second segment is whole now, the unsealed tail stays.
    const second = await log.prune({ before: NOW + 1 });
    expect(second).toBe(5);
    const [job] = await log.jobs.list({ name: 'prune', limit: 1 });
    expect(job?.chains).toEqual({ kept: 2, tenants: [{ tenantId: TENANT, throughSeq: 10, stoppedBy: 'unsealed' }], truncated: false });
    report = await log.verify({ tenantId: TENANT, anchors: [anchor, ...checkpoints] });
    expect(clean(report)).toEqual(NOTHING);
    expect(report.pruned).toEqual(checkpoints.map(proof));
    expect(report.rowsChecked).toBe(2);
    // The checkpoints of deleted segments are kept.
    expect(await log.integrity.exportCheckpoints({ tenantId: TENANT })).toEqual(checkpoints);
  });

  test('integrity: a policy or filter selecting only some events of a segment deletes no chained event of it', async () => {
    const { log, store } = await ctx.setup({
      integrity: { chain: true, key: privateKey, segment: { maxEvents: 4, maxAgeMs: 3_600_000 } },
      retention: { policies: [{ name: 'logins', match: { type: 'auth.login' }, maxAgeDays: 1 }], maxAgeDays: 1, pauseMs: 0 },
    });
    // Two tenants; in each, the segments mix logins and usage events (positions 1–4 and 5–8), all two days old.
    const events = Array.from({ length: 8 }, (_, i) =>
      i % 2 ? ctx.usage(i, { time: NOW - 2 * DAY + i * MINUTE }) : { type: 'auth.login', time: NOW - 2 * DAY + i * MINUTE },
    );
    await log.recordMany([...events.map((e) => ({ ...e, tenantId: 'a' })), ...events.map((e) => ({ ...e, tenantId: 'b' }))]);
    await log.integrity.seal({ tenantId: 'a' });
    await log.integrity.seal({ tenantId: 'b' });
    const logins = await log.jobs.runPolicy('logins');
    expect(logins).toMatchObject({ status: 'succeeded', processed: 0 });
    expect(logins?.chains?.kept).toBe(8);
    expect(logins?.chains?.tenants).toEqual([
      { tenantId: 'a', throughSeq: 0, stoppedBy: 'partial' },
      { tenantId: 'b', throughSeq: 0, stoppedBy: 'partial' },
    ]);
    const filtered = await log.jobs.prune({ before: NOW, filter: { tenantId: 'a' }, pauseMs: 0 });
    expect(filtered).toMatchObject({ processed: 8 });
    expect(await log.count({ tenantId: 'a' })).toBe(0);
    for (const tenantId of ['a', 'b']) {
      const report = await log.verify({ tenantId });
      expect(clean(report), tenantId).toEqual(NOTHING);
      expect(report.segmentsPruned).toBe(tenantId === 'a' ? 2 : 0);
    }
    // A tampered partial deletion is still reported: retention did not hide it.
    const rows = await tamperer(store).chainRows('b');
    await tamperer(store).remove([Number(rows[1]?.id)]);
    expect(clean(await log.verify({ tenantId: 'b' }))).toEqual({ ...NOTHING, deleted: [{ seq: 2, id: null }] });
  });

  test('integrity: expired data and fields are reported as expired, a changed payload as modified', async () => {
    const { log, store } = await ctx.setup({
      integrity: { chain: true, key: privateKey, segment: { maxEvents: 3, maxAgeMs: 3_600_000 } },
      retention: {
        policies: [
          { name: 'secrets', match: { type: 'llm.consumption' }, maxAgeDays: 1, action: 'expireData', fields: ['data.other.secret'] },
        ],
        pauseMs: 0,
      },
    });
    const events = Array.from({ length: 6 }, (_, i) =>
      ctx.usage(i, { tenantId: TENANT, time: NOW - 2 * DAY + i * MINUTE, data: { other: { i, secret: `s${i}`, keep: [i] } } }),
    );
    await log.recordMany([...events, ctx.usage(9, { tenantId: TENANT, time: NOW - 2 * DAY + 9 * MINUTE, data: undefined })]);
    await log.integrity.seal({ tenantId: TENANT, force: true });
    expect(await log.jobs.runPolicy('secrets')).toMatchObject({ status: 'succeeded', processed: 6 });
    expect(await log.expireData({ before: NOW - 2 * DAY + 2 * MINUTE, pauseMs: 0 })).toBe(2);
    let report = await log.verify({ tenantId: TENANT });
    expect(clean(report)).toEqual(NOTHING);
    expect(report.ok).toBe(true);
    expect(report.expired).toEqual([
      { seq: 1, id: expect.any(Number), fields: null },
      { seq: 2, id: expect.any(Number), fields: null },
      ...[3, 4, 5, 6].map((seq) => ({ seq, id: expect.any(Number), fields: ['other.secret'] })),
    ]);
    // Changing what is left, or putting a dropped field back with another value, is tampering.
    const tamper = tamperer(store);
    const rows = await tamper.chainRows(TENANT);
    await tamper.update(Number(rows[2]?.id), { data: { other: { i: 99, keep: [2] } } });
    await tamper.update(Number(rows[3]?.id), { data: { other: { i: 3, keep: [3], secret: 'forged' } } });
    await tamper.update(Number(rows[6]?.id), { data: { other: { i: 9 } } });
    report = await log.verify({ tenantId: TENANT });
    expect(clean(report)).toEqual({
      ...NOTHING,
      modified: [2, 3, 6].map((k) => ({ seq: k + 1, id: rows[k]?.id })),
    });
  });

  test('integrity: chains written in format 1 (data hashed itself) still verify, also continued in format 2', async () => {
    const options = { chain: true as const, key: privateKey, segment: { maxEvents: 3, maxAgeMs: 3_600_000 } };
    const { log, store } = await ctx.setup({ integrity: { ...options, format: 1 } as never });
    const events = Array.from({ length: 8 }, (_, i) => ctx.usage(i, { tenantId: TENANT, data: { other: { i } } }));
    await log.recordMany(events.slice(0, 4));
    const later = createEventLog({ store, presets: [conformancePreset], clock: () => NOW, integrity: options });
    await later.recordMany(events.slice(4));
    await later.integrity.seal({ tenantId: TENANT, force: true });
    const rows = await tamperer(store).chainRows(TENANT);
    expect(rows.map((r) => r.chain_data === null)).toEqual([true, true, true, true, false, false, false, false]);
    const report = await later.verify({ tenantId: TENANT });
    expect(clean(report)).toEqual(NOTHING);
    expect(report.rowsChecked).toBe(8);
    // In format 1 a dropped payload cannot be told from a changed one.
    await tamperer(store).update(Number(rows[1]?.id), { data: null });
    expect(clean(await later.verify({ tenantId: TENANT }))).toEqual({ ...NOTHING, modified: [{ seq: 2, id: rows[1]?.id }] });
  });
}
