import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { requireServer } from '../testing/servers.js';

const url = await requireServer('postgres');
const schema = `copywarn_${process.pid}`;

// Without pg-copy-streams the store ingests large batches with unnest inserts, which is slower:
// a host must be told, once, not left to find out from a benchmark (issue 10, item 3).
describe.skipIf(!url)('PostgreSQL store without pg-copy-streams', () => {
  afterAll(async () => {
    const client = new pg.Client({ connectionString: url ?? '' });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  });

  it('stores every event by unnest and says so once on stderr', () => {
    const child = fileURLToPath(new URL('./copy-warning.child.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', child, url ?? '', schema], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../../../tsconfig.json', import.meta.url)) },
    });
    expect(run.stdout.trim(), run.stderr).toBe('stored 4000');
    const warnings = run.stderr.split('\n').filter((line) => line.includes('pg-copy-streams is not installed'));
    expect(warnings, run.stderr).toHaveLength(1);
    expect(warnings[0]).toContain('npm i pg-copy-streams');
  }, 90_000);
});
