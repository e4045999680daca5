import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Checkpoint, createEventLog, isEventLogError, type StorageAdapter, type VerifyReport } from '@eventlog/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { MINUTE, NOW, seeded } from '../fixtures.js';
import type { Tamperer } from '../integrity-tamper.js';
import { clean, NOTHING } from './integrity-report.js';
import { integrityRetentionSuite } from './integrity-retention.js';

/** How a child process opens a store on the same tables: `import(module)[factory](options)`. */
export interface ChildStoreSpec {
  /** A module specifier the child can import (an absolute file URL for the project's own stores). */
  readonly module: string;
  readonly factory: string;
  readonly options: Record<string, unknown>;
}

/** Hooks of the integrity suite (tamper evidence); see {@link IntegritySuiteOptions}. */
export interface IntegrityHooks {
  /** SQL behind the core's back (`kyselyTamperer` for the Kysely stores). */
  tamper(store: StorageAdapter): Tamperer;
  /** How a second process opens this store's tables. Unlocks: two processes appending to one chain. */
  childStore?(store: StorageAdapter): ChildStoreSpec;
}

/** Either the hooks, or the reason the store keeps no chains (the suite then checks that it refuses the option). */
export type IntegritySuiteOptions = { readonly hooks: IntegrityHooks; readonly childStoreGap?: string } | { readonly gap: string };

const { privateKey } = generateKeyPairSync('ed25519');
const TENANT = 'acme';

/** The tamper-evidence part of the conformance suite. */
export function integritySuite(ctx: SuiteContext, options: IntegritySuiteOptions | undefined): void {
  const { test } = ctx;
  describe('integrity (tamper evidence)', () => {
    if (!options) {
      it('integrity: names its hooks or why the store keeps no chains', () => {
        expect.fail('runStoreConformance needs `integrity: { hooks }` or `integrity: { gap }`.');
      });
      return;
    }
    if ('gap' in options) {
      test('integrity: a store without chains refuses the integrity option with UNSUPPORTED', async () => {
        const store = await ctx.freshStore();
        let error: unknown;
        try {
          createEventLog({ store, integrity: { chain: true } });
        } catch (e) {
          error = e;
        }
        expect(store.chain).toBeUndefined();
        expect(isEventLogError(error, 'UNSUPPORTED')).toBe(true);
        expect(String((error as Error).message)).toMatch(/hash chains/);
      });
      return;
    }
    const hooks = options.hooks;

    const chained = async (maxEvents = 5, n = 12, tenantId: string | null = TENANT) => {
      const fixture = await ctx.setup({ integrity: { chain: true, key: privateKey, segment: { maxEvents, maxAgeMs: 3_600_000 } } });
      const events = Array.from({ length: n }, (_, i) =>
        ctx.usage(i, { tenantId, time: NOW - (n - i) * MINUTE, data: { other: { i, tags: ['a', i] } } }),
      );
      const stored = await fixture.log.recordMany(events);
      await fixture.log.integrity.seal({ tenantId });
      return { ...fixture, stored, tamper: hooks.tamper(fixture.store) };
    };

    test('integrity: each tenant gets one gap-free chain, sealed by count, that verifies clean', async () => {
      const { log } = await ctx.setup({ integrity: { chain: true, key: privateKey, segment: { maxEvents: 4, maxAgeMs: 3_600_000 } } });
      const events = Array.from({ length: 30 }, (_, i) => ctx.usage(i, { tenantId: i % 5 === 0 ? null : `t${i % 3}` }));
      await log.recordMany(events.slice(0, 17));
      for (const e of events.slice(17)) await log.record(e);
      await log.integrity.seal({ tenantId: 't1' });
      for (const tenantId of ['t0', 't1', 't2', null]) {
        const expected = events.filter((e) => (e.tenantId ?? null) === tenantId).length;
        expect((await log.integrity.head(tenantId))?.seq).toBe(expected);
        const report = await log.verify({ tenantId });
        expect(clean(report)).toEqual(NOTHING);
        expect(report.ok).toBe(true);
        expect(report.rowsChecked).toBe(expected);
        expect(report.signaturesVerified).toBe(true);
      }
      const checkpoints = await log.integrity.exportCheckpoints({ tenantId: 't1' });
      expect(checkpoints.map((c) => [c.firstSeq, c.lastSeq, c.count])).toEqual([
        [1, 4, 4],
        [5, 8, 8 - 4],
      ]);
      expect(JSON.parse(JSON.stringify(checkpoints))).toEqual(checkpoints);
      expect(checkpoints[1]?.prevHash).toBe(checkpoints[0]?.lastHash);
    });

    test('integrity: a forced seal covers the unsealed tail, and checkpoints export as JSON anchors', async () => {
      const { log } = await chained(5, 12);
      expect((await log.integrity.exportCheckpoints({ tenantId: TENANT })).map((c) => c.lastSeq)).toEqual([5, 10]);
      const sealed = await log.integrity.seal({ tenantId: TENANT, force: true });
      expect(sealed.map((c) => [c.firstSeq, c.lastSeq])).toEqual([[11, 12]]);
      const anchors = JSON.parse(JSON.stringify(await log.integrity.exportCheckpoints())) as Checkpoint[];
      expect(anchors.filter((c) => c.tenantId === TENANT)).toHaveLength(3);
      const report = await log.verify({ tenantId: TENANT, anchors });
      expect(report.ok).toBe(true);
      expect(report.segmentsChecked).toBe(3);
      expect(report.sealedSeq).toBe(12);
    });

    test('integrity: a modified field is reported with its id and position', async () => {
      const { log, tamper } = await chained();
      const rows = await tamper.chainRows(TENANT);
      const target = rows[6] as Record<string, unknown>;
      await tamper.update(Number(target.id), { message: 'nothing to see here' });
      const report = await log.verify({ tenantId: TENANT });
      expect(report.ok).toBe(false);
      expect(clean(report)).toEqual({ ...NOTHING, modified: [{ seq: 7, id: target.id }] });
      expect(report.firstBrokenSeq).toBe(7);
    });

    test('integrity: a deleted row is reported by position', async () => {
      const { log, tamper } = await chained();
      const rows = await tamper.chainRows(TENANT);
      await tamper.remove([Number(rows[2]?.id)]);
      const report = await log.verify({ tenantId: TENANT });
      expect(clean(report)).toEqual({ ...NOTHING, deleted: [{ seq: 3, id: null }] });
      expect(report.firstBrokenSeq).toBe(3);
    });

    test('integrity: an inserted row is reported by id, with or without a forged position', async () => {
      const { log, tamper } = await chained();
      const rows = await tamper.chainRows(TENANT);
      const { id: _id, ...copy } = rows[3] as Record<string, unknown>;
      const loose = await tamper.insert({ ...copy, chain_seq: null, chain_hash: null, message: 'forged' });
      const forged = await tamper.insert({ ...copy, message: 'forged twin' });
      const report = await log.verify({ tenantId: TENANT });
      expect(clean(report)).toEqual({
        ...NOTHING,
        inserted: [
          { id: forged, seq: 4 },
          { id: loose, seq: null },
        ],
      });
    });

    test('integrity: two reordered rows are reported with the positions they belong at', async () => {
      const { log, tamper } = await chained();
      const rows = await tamper.chainRows(TENANT);
      const [a, b] = [rows[1] as Record<string, unknown>, rows[8] as Record<string, unknown>];
      // The chain order: the two rows swap positions, each keeping its own link hash.
      await tamper.update(Number(a.id), { chain_seq: 9 });
      await tamper.update(Number(b.id), { chain_seq: 2 });
      const report = await log.verify({ tenantId: TENANT });
      expect(clean(report)).toEqual({
        ...NOTHING,
        reordered: [
          { id: b.id, seq: 2, expectedSeq: 9 },
          { id: a.id, seq: 9, expectedSeq: 2 },
        ],
      });
    });

    test('integrity: dropped newest rows are found only against an anchor kept elsewhere', async () => {
      const { log, tamper } = await chained();
      const anchor = await log.integrity.head(TENANT);
      expect(anchor?.seq).toBe(12);
      const rows = await tamper.chainRows(TENANT);
      await tamper.remove(rows.slice(10).map((r) => Number(r.id)));
      // Without an anchor the truncated chain is consistent: this is the documented limit.
      expect((await log.verify({ tenantId: TENANT })).ok).toBe(true);
      const report = await log.verify({ tenantId: TENANT, anchors: [anchor as NonNullable<typeof anchor>] });
      expect(clean(report)).toEqual({ ...NOTHING, missingNewest: { fromSeq: 11, toSeq: 12 } });
      expect(report.firstBrokenSeq).toBe(11);
    });

    test('integrity: a checkpoint replaced without the key fails its signature', async () => {
      const { log, tamper } = await chained();
      const [first] = await tamper.checkpointBodies();
      const body = JSON.parse(first?.body ?? '{}') as Checkpoint;
      const attacker = generateKeyPairSync('ed25519').privateKey;
      const forged = { ...body, merkleRoot: randomBytes(32).toString('hex') };
      const { signature: _s, ...unsigned } = forged;
      const payload = Buffer.from(JSON.stringify(unsigned, Object.keys(unsigned).sort()));
      await tamper.setCheckpointBody(
        first?.tenantKey ?? '',
        1,
        JSON.stringify({ ...forged, signature: sign(null, payload, attacker).toString('base64') }),
      );
      const report = await log.verify({ tenantId: TENANT });
      expect(report.checkpointFailures).toContainEqual({ firstSeq: 1, lastSeq: 5, reason: 'signature' });
      expect(report.ok).toBe(false);
    });

    test('integrity: verify passes after whole sealed segments are deleted, keeping their checkpoints', async () => {
      const { log, tamper } = await chained(5, 12);
      const boundary = await log.integrity.sealedUpTo(TENANT, { before: NOW });
      expect(boundary?.lastSeq).toBe(10);
      const early = await log.integrity.sealedUpTo(TENANT, { before: NOW - 7 * MINUTE + 1 });
      expect(early?.lastSeq).toBe(5);
      const rows = await tamper.chainRows(TENANT);
      await tamper.remove(rows.filter((r) => Number(r.chain_seq) <= (boundary?.lastSeq ?? 0)).map((r) => Number(r.id)));
      const report = await log.verify({
        tenantId: TENANT,
        anchors: [(await log.integrity.head(TENANT)) as NonNullable<Awaited<ReturnType<typeof log.integrity.head>>>],
      });
      expect(clean(report)).toEqual(NOTHING);
      expect(report.segmentsPruned).toBe(2);
      expect(report.rowsChecked).toBe(2);
      // Half a segment deleted is not retention: the missing rows are reported.
      await tamper.remove([Number(rows[10]?.id)]);
      expect(clean(await log.verify({ tenantId: TENANT }))).toEqual({ ...NOTHING, deleted: [{ seq: 11, id: null }] });
    });

    test('integrity: 1,000 seeded random tamperings are all detected and located', async () => {
      const { log, tamper } = await chained(5, 12);
      const anchor = (await log.integrity.head(TENANT)) as { tenantId: string; seq: number; hash: string };
      const original = await tamper.chainRows(TENANT);
      const bodies = await tamper.checkpointBodies();
      const random = seeded(15);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
      const fields: [string, () => unknown][] = [
        ['message', () => `changed ${random()}`],
        ['time', () => NOW + Math.floor(random() * 1e6) + 1],
        ['actor_id', () => `intruder-${random()}`],
        ['quota', () => 1e6 + Math.floor(random() * 1e6)],
        ['data', () => ({ other: { i: -1, r: random() } })],
        ['severity', () => 'debug'],
        ['ip', () => '198.51.100.7'],
        ['chain_hash', () => randomBytes(32).toString('hex')],
      ];
      const kinds = ['modify', 'delete', 'insert', 'twin', 'reorder', 'swap', 'drop', 'checkpoint'] as const;
      const counts: Record<string, number> = {};
      for (let round = 0; round < 1000; round++) {
        const kind = pick(kinds);
        counts[kind] = (counts[kind] ?? 0) + 1;
        const k = Math.floor(random() * 12);
        const row = original[k] as Record<string, unknown>;
        const seq = k + 1;
        const touched: Record<string, unknown>[] = [];
        let added: number | null = null;
        let expectCheck: (r: VerifyReport) => boolean;
        if (kind === 'modify') {
          const [column, value] = pick(fields);
          await tamper.update(Number(row.id), { [column]: value() });
          touched.push(row);
          expectCheck = (r) => r.modified.some((m) => m.seq === seq && m.id === row.id);
        } else if (kind === 'delete') {
          await tamper.remove([Number(row.id)]);
          touched.push(row);
          expectCheck = (r) => (seq === 12 ? r.missingNewest?.fromSeq === 12 : r.deleted.some((d) => d.seq === seq));
        } else if (kind === 'insert' || kind === 'twin') {
          const { id: _id, ...copy } = row;
          const forged = kind === 'insert' ? { ...copy, chain_seq: null, chain_hash: null } : copy;
          added = await tamper.insert({ ...forged, message: `forged ${random()}` });
          const id = added;
          expectCheck = (r) => r.inserted.some((i) => i.id === id && i.seq === (kind === 'twin' ? seq : null));
        } else if (kind === 'reorder' || kind === 'swap') {
          let j = Math.floor(random() * 11);
          if (j >= k) j++;
          const other = original[j] as Record<string, unknown>;
          touched.push(row, other);
          if (kind === 'reorder') {
            await tamper.update(Number(row.id), { chain_seq: j + 1 });
            await tamper.update(Number(other.id), { chain_seq: seq });
          } else {
            // The contents trade places; ids and links stay.
            const content = (r: Record<string, unknown>) =>
              Object.fromEntries(Object.entries(r).filter(([c]) => c !== 'id' && c !== 'chain_seq' && c !== 'chain_hash'));
            await tamper.update(Number(row.id), content(other));
            await tamper.update(Number(other.id), content(row));
          }
          expectCheck = (r) =>
            r.reordered.some((x) => x.id === row.id && x.expectedSeq === (kind === 'reorder' ? seq : j + 1)) &&
            r.reordered.some((x) => x.id === other.id);
        } else if (kind === 'drop') {
          const n = 1 + Math.floor(random() * 3);
          const dropped = original.slice(12 - n);
          await tamper.remove(dropped.map((r) => Number(r.id)));
          touched.push(...dropped);
          expectCheck = (r) =>
            dropped.every((d) => {
              const s = Number(d.chain_seq);
              const missing = r.missingNewest;
              return r.deleted.some((x) => x.seq === s) || (missing !== null && s >= missing.fromSeq && s <= missing.toSeq);
            });
        } else {
          const target = pick(bodies);
          const body = JSON.parse(target.body) as Record<string, unknown>;
          await tamper.setCheckpointBody(
            target.tenantKey,
            target.firstSeq,
            JSON.stringify({ ...body, lastTime: Number(body.lastTime) + 1 }),
          );
          expectCheck = (r) => r.checkpointFailures.some((f) => f.firstSeq === target.firstSeq && f.reason === 'signature');
        }
        const report = await log.verify({ tenantId: TENANT, anchors: [anchor] });
        if (report.ok || !expectCheck(report)) {
          expect.fail(`round ${round}: ${kind} at seq ${seq} not detected precisely: ${JSON.stringify(clean(report))}`);
        }
        if (added !== null) await tamper.remove([added]);
        await tamper.restore(touched);
        if (kind === 'checkpoint') for (const b of bodies) await tamper.setCheckpointBody(b.tenantKey, b.firstSeq, b.body);
        if (round % 100 === 99)
          expect((await log.verify({ tenantId: TENANT, anchors: [anchor] })).ok, `restored after round ${round}`).toBe(true);
      }
      expect(Object.keys(counts).sort()).toEqual([...kinds].sort());
    }, 240_000);

    test('integrity: a tenant id with U+0000 is one chain with its U+FFFD spelling, on every engine', async () => {
      // PostgreSQL cannot store U+0000 and its store writes U+FFFD: the two spellings were one stored
      // tenant there but two chains to the core (two lock keys, tails read twice, positions taken
      // twice, headers hashing the raw text), so the chain did not verify on PostgreSQL alone.
      const { log } = await ctx.setup({ integrity: { chain: true, key: privateKey, segment: { maxEvents: 4, maxAgeMs: 3_600_000 } } });
      const [nul, replaced] = ['nul\u0000tenant', 'nul\ufffdtenant'];
      const events = (n: number, from: number) =>
        Array.from({ length: n }, (_, i) => ctx.usage(from + i, { tenantId: (from + i) % 2 === 0 ? nul : replaced }));
      await log.recordMany(events(6, 0));
      for (const e of events(3, 6)) await log.record(e);
      await log.integrity.seal({ tenantId: nul, force: true });
      for (const tenantId of [nul, replaced]) {
        const report = await log.verify({ tenantId });
        expect(clean(report), tenantId).toEqual(NOTHING);
        expect(report.ok).toBe(true);
        expect(report.rowsChecked).toBe(9);
        expect(await log.integrity.head(tenantId)).toMatchObject({ tenantId: replaced, seq: 9 });
      }
      expect(await log.count({ tenantId: nul })).toBe(9);
      const anchors = await log.integrity.exportCheckpoints({ tenantId: nul });
      expect(anchors.map((c) => [c.tenantId, c.firstSeq, c.lastSeq])).toEqual([
        [replaced, 1, 4],
        [replaced, 5, 8],
        [replaced, 9, 9],
      ]);
      expect((await log.verify({ tenantId: nul, anchors })).ok).toBe(true);
    });

    test('integrity: bad verify input is a validation error; a log without the option rejects with UNSUPPORTED', async () => {
      const { log } = await chained(5, 3);
      for (const input of [
        { tenantId: 5 },
        { tenantId: TENANT, anchors: [{ tenantId: TENANT, seq: 0, hash: 'x' }] },
        { tenantId: TENANT, since: -1 },
      ]) {
        await expect(log.verify(input as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      const plain = await ctx.setup();
      await expect(plain.log.verify({ tenantId: TENANT })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      await expect(plain.log.integrity.head(TENANT)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    });

    integrityRetentionSuite(ctx, hooks.tamper);

    const childStore = hooks.childStore;
    if (childStore) {
      test('integrity: two processes appending to the same tenants keep one valid chain each', async () => {
        const { log, store } = await ctx.setup({
          integrity: { chain: true, key: privateKey, segment: { maxEvents: 40, maxAgeMs: 3_600_000 } },
        });
        const child = fileURLToPath(new URL('../integrity.child.ts', import.meta.url));
        const spec = JSON.stringify(childStore(store));
        const proc = spawn(process.execPath, ['--import', 'tsx', child, spec, '150', 'shared,other'], {
          stdio: ['pipe', 'pipe', 'inherit'],
          env: { ...process.env, EVENTLOG_CHAIN_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
        });
        const lines = createInterface({ input: proc.stdout });
        const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
        expect(await next()).toBe('ready');
        proc.stdin.write('go\n');
        const childDone = next();
        let written = 0;
        while (written < 150) {
          const size = 1 + (written % 5);
          await log.recordMany(
            Array.from({ length: size }, (_, i) => ctx.usage(written + i, { tenantId: (written + i) % 2 ? 'shared' : 'other' })),
          );
          written += size;
        }
        expect(await childDone).toBe('done 150');
        proc.stdin.end();
        await log.integrity.seal({ tenantId: 'shared', force: true });
        const totals = { shared: 0, other: 0 };
        for (const tenantId of ['shared', 'other'] as const) {
          const report = await log.verify({ tenantId });
          expect(clean(report)).toEqual(NOTHING);
          totals[tenantId] = report.headSeq;
        }
        expect(totals.shared + totals.other).toBe(300);
        expect(totals.shared).toBe(150);
      }, 60_000);
    } else {
      it(`integrity: two processes share a chain (not tested here: ${'childStoreGap' in options ? options.childStoreGap : 'no reason given'})`, () => {
        expect(options.childStoreGap, 'childStore hook missing without childStoreGap').toBeTruthy();
      });
    }
  });
}
