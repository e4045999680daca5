import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VerifyReport } from '@eventlog/core';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { openContext } from '../context.js';
import { buildCli, runCli, tempDir } from '../test-support.js';

// Real processes on a shared 2-core machine: a start can take seconds.
vi.setConfig({ testTimeout: 90_000 });

let bin: string;
beforeAll(async () => {
  bin = await buildCli();
}, 120_000);

const { privateKey, publicKey } = generateKeyPairSync('ed25519');

/** A store file holding a 10-event chain for tenant `acme`, sealed in segments of 4, and the public key's file. */
async function chainedStore(): Promise<{ db: string; pub: string }> {
  const dir = tempDir();
  const db = join(dir, 'audit.db');
  const pub = join(dir, 'audit.pub.pem');
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  const ctx = await openContext({ db }, { integrity: () => ({ chain: true, key: privateKey, segment: { maxEvents: 4 } }) });
  try {
    await ctx.log.recordMany(Array.from({ length: 10 }, (_, i) => ({ type: 'audit.change', tenantId: 'acme', message: `change ${i}` })));
    await ctx.log.integrity.seal({ tenantId: 'acme' });
  } finally {
    await ctx.log.close();
  }
  return { db, pub };
}

describe('eventlog verify', () => {
  it('exits 0 on an intact chain and 1 with the modified row after an UPDATE behind its back', async () => {
    const { db, pub } = await chainedStore();
    const ok = await runCli(bin, ['verify', '--tenant', 'acme', '--public-key', pub, '--db', db]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('OK: tenant acme, 10 rows, 2 sealed segments checked; sealed up to #8, head #10.');

    const raw = new Database(db);
    const { id } = raw.prepare('select id from eventlog_events where chain_seq = 3').get() as { id: number };
    raw.prepare('update eventlog_events set message = ? where id = ?').run('nothing happened', id);
    raw.close();
    const bad = await runCli(bin, ['verify', '--tenant', 'acme', '--public-key', pub, '--db', db]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('TAMPERED: tenant acme');
    expect(bad.stdout).toContain(`modified: #3 (id ${id})`);
    const json = await runCli(bin, ['verify', '--tenant', 'acme', '--json', '--db', db]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as VerifyReport;
    expect(report.modified).toEqual([{ seq: 3, id }]);
    expect(report.signaturesVerified).toBe(false);
  });

  it('finds dropped newest rows against an anchors file, and refuses bad usage with exit 2', async () => {
    const { db, pub } = await chainedStore();
    const raw = new Database(db);
    const head = raw.prepare('select chain_seq as seq, chain_hash as hash from eventlog_events order by chain_seq desc limit 1').get() as {
      seq: number;
      hash: string;
    };
    raw.prepare('delete from eventlog_events where chain_seq > 8').run();
    raw.close();
    const anchors = join(tempDir(), 'anchors.json');
    writeFileSync(anchors, JSON.stringify({ anchors: [{ tenantId: 'acme', ...head }] }));
    const without = await runCli(bin, ['verify', '--tenant', 'acme', '--public-key', pub, '--db', db]);
    expect(without.code).toBe(0);
    const withAnchor = await runCli(bin, ['verify', '--tenant', 'acme', '--anchors', anchors, '--public-key', pub, '--db', db]);
    expect(withAnchor.code).toBe(1);
    expect(withAnchor.stdout).toContain('missing newest rows: #9-#10');

    const [noTenant, badAnchors] = await Promise.all([
      runCli(bin, ['verify', '--db', db]),
      runCli(bin, ['verify', '--tenant', 'acme', '--anchors', join(tempDir(), 'none.json'), '--db', db]),
    ]);
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toContain('--tenant <id>, or --no-tenant');
    expect(badAnchors.code).toBe(2);
    expect(badAnchors.stderr).toContain('not a readable JSON file');
  });
});
