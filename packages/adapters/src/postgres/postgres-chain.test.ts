import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createEventLog } from '@eventlog/core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { appendChainedBatches, chainedLog } from '../testing/chain-batches.js';
import { conformancePreset, NOW } from '../testing/fixtures.js';
import { requireServer } from '../testing/servers.js';
import { createPostgresStore } from './postgres-store.js';

const url = await requireServer('postgres');
const schema = `elc_${randomBytes(4).toString('hex')}`;

/** Tenants that a hand-written SQL literal could get wrong (U+0000: the core stores it as U+FFFD on every engine). */
const TENANTS = ["it's", "''", 'back\\slash \\N', '$1 $$ dollar', 'ünïcödé 🚀', 'nul\u0000', '', null];

describe.skipIf(!url)('PostgreSQL chained append (one round trip for BEGIN, locks and tails)', () => {
  const connectionString = url as string;

  afterAll(async () => {
    const pool = new pg.Pool({ connectionString, max: 1 });
    await pool.query(`drop schema if exists ${schema} cascade`);
    await pool.end();
  });

  it('continues each tenant chain across batches, whatever its text, and verifies', async () => {
    const log = createEventLog({
      store: createPostgresStore({ connectionString, schema }),
      presets: [conformancePreset],
      clock: () => NOW,
      integrity: { chain: true, key: generateKeyPairSync('ed25519').privateKey },
    });
    try {
      await log.ready();
      for (let batch = 0; batch < 3; batch++) {
        await log.recordMany(
          TENANTS.flatMap((tenantId) => [0, 1].map(() => ({ type: 'auth.login', tenantId, data: { reason: `b${batch}` } }))),
        );
      }
      for (const tenantId of TENANTS) {
        const report = await log.verify({ tenantId });
        expect(report.ok, JSON.stringify(report)).toBe(true);
        expect(report.rowsChecked).toBe(6);
        expect((await log.integrity.head(tenantId))?.seq).toBe(6);
      }
    } finally {
      await log.close();
    }
  });
});

describe.skipIf(!url)('PostgreSQL chained append: one transaction on one connection', () => {
  const connectionString = url as string;
  const oneConnection = `${schema}_one`;

  afterAll(async () => {
    const pool = new pg.Pool({ connectionString, max: 1 });
    await pool.query(`drop schema if exists ${oneConnection} cascade`);
    await pool.end();
  });

  // With the rows written on a second connection while the first held the locks, a pool of one
  // connection waited for itself forever; batches of 600 go through COPY, of 40 through `unnest`.
  it('appends through COPY and unnest with a pool of one connection, and verifies', async () => {
    const pool = new pg.Pool({ connectionString, max: 1 });
    const log = chainedLog(createPostgresStore({ pool, schema: oneConnection }));
    try {
      await log.ready();
      await appendChainedBatches(log);
    } finally {
      await log.close();
      await pool.end();
    }
  }, 30_000);
});
