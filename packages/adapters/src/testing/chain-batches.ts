import { generateKeyPairSync } from 'node:crypto';
import { createEventLog, type EventLog, type StorageAdapter } from '@eventlog/core';
import { expect } from 'vitest';
import { conformancePreset, NOW } from './fixtures.js';

/** A chained log on `store`: segments of 250 events, a fresh Ed25519 key. @internal */
export function chainedLog(store: StorageAdapter): EventLog {
  return createEventLog({
    store,
    presets: [conformancePreset],
    clock: () => NOW,
    integrity: { chain: true, key: generateKeyPairSync('ed25519').privateKey, segment: { maxEvents: 250, maxAgeMs: 3_600_000 } },
  });
}

/**
 * Records batches of 600, 40 and 600 chained events over three tenants (one of them none), which
 * the PostgreSQL store writes through COPY and `unnest`, seals, and checks that each tenant's
 * chain verifies and ends at its last event. @internal
 */
export async function appendChainedBatches(log: EventLog): Promise<void> {
  const batch = (n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => ({
      type: 'auth.login' as const,
      tenantId: i % 3 === 0 ? null : `t${i % 3}`,
      data: { reason: `${tag}${i}` },
    }));
  for (const [n, tag] of [
    [600, 'a'],
    [40, 'b'],
    [600, 'c'],
  ] as const)
    await log.recordMany(batch(n, tag));
  await log.integrity.seal({ force: true });
  for (const [tenantId, count] of [
    [null, 414],
    ['t1', 413],
    ['t2', 413],
  ] as const) {
    const report = await log.verify({ tenantId });
    expect(report.ok, JSON.stringify(report)).toBe(true);
    expect(report.rowsChecked).toBe(count);
    expect((await log.integrity.head(tenantId))?.seq).toBe(count);
  }
}
