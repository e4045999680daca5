import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { JobInfo } from '@eventlog/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { openContext } from '../context.js';
import { buildCli, runCli, tempDir } from '../test-support.js';

vi.setConfig({ testTimeout: 90_000 });

let bin: string;
beforeAll(async () => {
  bin = await buildCli();
}, 120_000);

const DAY = 86_400_000;

describe('eventlog prune runs as a job; eventlog jobs lists, cancels and resumes', () => {
  it('prune --archive writes the deleted events, and jobs shows the run with its count and checksum', async () => {
    const dir = tempDir();
    const db = join(dir, 'jobs.db');
    const now = Date.now();
    const ctx = await openContext({ db });
    await ctx.log.recordMany(
      Array.from({ length: 30 }, (_, i) => ({ type: 'app.login', time: now - (i % 3 === 0 ? 40 : 1) * DAY, tenantId: 't' })),
    );
    await ctx.log.close();

    const dry = await runCli(bin, ['prune', '--before', '30d', '--dry-run', '--db', db]);
    expect(dry.stdout.trim()).toBe('10');
    const archiveDir = join(dir, 'archive');
    const real = await runCli(bin, ['prune', '--before', '30d', '--archive', archiveDir, '--json', '--db', db]);
    expect(real.code).toBe(0);
    const result = JSON.parse(real.stdout) as { count: number; job: JobInfo };
    expect(result.count).toBe(10);
    expect(result.job).toMatchObject({ name: 'prune', status: 'succeeded', processed: 10, archive: { rows: 10, format: 'jsonl' } });
    const file = result.job.archive?.file as string;
    const bytes = readFileSync(file);
    expect(result.job.archive?.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(gunzipSync(bytes).toString('utf8').trim().split('\n')).toHaveLength(10);

    const listed = await runCli(bin, ['jobs', '--json', '--db', db]);
    const jobs = JSON.parse(listed.stdout) as JobInfo[];
    expect(jobs.map((j) => [j.name, j.dryRun, j.status])).toEqual([
      ['prune', false, 'succeeded'],
      ['prune', true, 'succeeded'],
    ]);
    const table = await runCli(bin, ['jobs', '--db', db]);
    expect(table.stdout).toContain(result.job.id);
    expect(table.stdout).toContain('prune (dry run)');
    const cancel = await runCli(bin, ['jobs', '--cancel', result.job.id, '--json', '--db', db]);
    expect(JSON.parse(cancel.stdout)).toMatchObject([{ id: result.job.id, status: 'succeeded' }]);
    const resume = await runCli(bin, ['jobs', '--resume', '--db', db]);
    expect(resume.stdout).toBe('No unfinished jobs.\n');
  });

  it('rejects an unknown status with a usage error and an unknown job id with a failure', async () => {
    const db = join(tempDir(), 'u.db');
    const [status, missing] = await Promise.all([
      runCli(bin, ['jobs', '--status', 'sleeping', '--db', db]),
      runCli(bin, ['jobs', '--cancel', 'no-such-job', '--db', db]),
    ]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('--status: "sleeping" is not one of');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('There is no job no-such-job.');
  });
});
