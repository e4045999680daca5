// `eventlog import` and `eventlog export` as child processes against the test ClickHouse server
// (scripts/clickhouse.sh), with both URL forms --db accepts for it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { requireServer } from '@eventlog/adapters/testing';
import type { FilterInput } from '@eventlog/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openContext } from '../context.js';
import { buildCli, clickhouseDb, combinedLines, interruptAfterFirstCheckpoint, runCli, squidLines, tempDir } from '../test-support.js';

vi.setConfig({ testTimeout: 120_000 });

const url = await requireServer('clickhouse');
const START = Date.UTC(2026, 3, 1, 8, 0, 0);

describe.skipIf(!url)('eventlog import and export on ClickHouse', () => {
  let bin: string;
  let target: ReturnType<typeof clickhouseDb>;
  let dir: string;
  const cli = (args: string[], options: { db?: string; input?: string } = {}) =>
    runCli(bin, [...args, '--db', options.db ?? target.db], {
      cwd: dir,
      env: { EVENTLOG_STATE_DIR: join(dir, 'state') },
      ...(options.input !== undefined ? { input: options.input } : {}),
      timeoutMs: 110_000,
    });
  const withLog = async <T>(run: (ctx: Awaited<ReturnType<typeof openContext>>) => Promise<T>) => {
    const ctx = await openContext({ db: target.db });
    try {
      return await run(ctx);
    } finally {
      await ctx.log.close();
    }
  };
  const count = (filter: FilterInput) => withLog((ctx) => ctx.log.count(filter));

  beforeAll(async () => {
    bin = await buildCli();
    target = clickhouseDb(url!);
    dir = tempDir();
  }, 180_000);
  afterAll(async () => {
    await target?.drop();
  });

  it('imports a combined log (clickhouse:// URL), rejects bad lines, and imports nothing twice', async () => {
    const lines = combinedLines(400, START);
    lines.splice(50, 0, 'not an access log line');
    const file = join(dir, 'access.log');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const first = await cli(['import', file, '--tenant', 'web', '--rejects', join(dir, 'access.rejects.jsonl')]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('400 stored, 1 rejected (combined');
    const rejects = readFileSync(join(dir, 'access.rejects.jsonl'), 'utf8').trim().split('\n');
    expect(rejects.map((r) => (JSON.parse(r) as { line: number }).line)).toEqual([51]);
    const again = await cli(['import', file, '--tenant', 'web']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 stored, 0 rejected');
    expect(await count({ tenantId: 'web', type: 'proxy.request' })).toBe(400);
    const notFound = lines.filter((l) => / 404 \d+ "/.test(l)).length;
    expect(await count({ tenantId: 'web', dimensions: { status_code: 404 } })).toBe(notFound);
    const stats = await cli(['stats', '--tenant', 'web', '--since', '2026-04-01T00:00:00Z', '--json']);
    expect(JSON.parse(stats.stdout)).toMatchObject({ count: 400 });
  });

  it('imports a gzip Squid log given as an http:// URL with ?database=', async () => {
    const lines = squidLines(300, START + 86_400_000);
    const file = join(dir, 'squid.log.gz');
    writeFileSync(file, gzipSync(`${lines.join('\n')}\n`));
    const httpDb = `${url!.replace(/\/$/, '')}/?database=${target.database}`;
    const result = await cli(['import', file, '--tenant', 'proxy-1'], { db: httpDb });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('300 stored, 0 rejected (squid');
    expect(await count({ tenantId: 'proxy-1' })).toBe(300);
    const denied = lines.filter((l) => l.includes('TCP_DENIED/403')).length;
    expect(await count({ tenantId: 'proxy-1', outcome: 'DENIED' })).toBe(denied);
    const top = JSON.parse((await cli(['top', '--by', 'host', '--tenant', 'proxy-1', '--json'])).stdout) as { count: number }[];
    expect(top.reduce((s, r) => s + r.count, 0)).toBe(300);
  });

  it('round-trips export → import for CSV and JSON lines', async () => {
    const source = 'ch-roundtrip';
    const events = [
      { type: 'app.deploy', time: START, message: 'v2 "quoted", with comma\nand a newline', actor: { id: 'u1', name: '=x()' } },
      {
        type: 'llm.consumption',
        time: START + 1,
        tenantId: '7',
        dimensions: { model_name: 'gpt-x', token_name: 't1' },
        metrics: { quota: 12, prompt_tokens: 3, completion_tokens: 4 },
      },
      { type: 'proxy.request', time: START + 2, ip: '10.1.1.1', dimensions: { host: 'x.io', status_code: 403 }, metrics: { bytes: 99 } },
      { type: 'access.door.unlock', time: START + 3, target: { type: 'door', id: 'd-1', name: 'Front' }, durationMs: 1.5 },
    ].map((e) => ({ ...e, category: source }));
    const imported = await cli(['import', '-', '--format', 'jsonl'], { input: `${events.map((e) => JSON.stringify(e)).join('\n')}\n` });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('4 stored, 0 rejected (jsonl');
    const stored = (category: string) =>
      withLog(async (ctx) => {
        const page = await ctx.log.query({ filter: { category }, sort: { field: 'time', direction: 'asc' }, limit: 100 });
        return page.items.map(({ id: _id, category: _c, ...rest }) => rest);
      });
    const original = await stored(source);
    expect(original).toHaveLength(4);
    expect(original[0]!.message).toBe(events[0]!.message);
    for (const format of ['csv', 'jsonl'] as const) {
      const file = join(dir, `export.${format}`);
      const exported = await cli(['export', '--format', format, '--category', source, '-o', file]);
      expect(exported.code).toBe(0);
      writeFileSync(file, readFileSync(file, 'utf8').replaceAll(source, `copy-${format}`));
      const back = await cli(['import', file]);
      expect(back.code).toBe(0);
      expect(back.stdout).toContain(`4 stored, 0 rejected (${format}`);
      expect(await stored(`copy-${format}`)).toEqual(original);
    }
  });

  it('resumes an import stopped with Ctrl+C without duplicates', async () => {
    const total = 20_000;
    const file = join(dir, 'big-access.log');
    writeFileSync(file, `${combinedLines(total, START + 2 * 86_400_000, 5).join('\n')}\n`);
    const stateDir = join(dir, 'state-resume');
    const args = ['import', file, '--db', target.db, '--tenant', 'resume', '--batch', '500', '--state-dir', stateDir];
    const stopped = await interruptAfterFirstCheckpoint(bin, args, dir, stateDir);
    expect(stopped.code).toBe(130);
    const upTo = Number(/Interrupted: stored everything read up to line (\d+)/.exec(stopped.stderr)?.[1]);
    expect(upTo).toBeGreaterThan(0);
    expect(upTo).toBeLessThan(total);
    expect(await count({ tenantId: 'resume' })).toBe(upTo);
    const resumed = await runCli(bin, args, { cwd: dir, timeoutMs: 110_000 });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resuming after line ${upTo}`);
    expect(resumed.stdout).toContain(`${(total - upTo).toLocaleString('en-US')} stored, 0 rejected`);
    expect(await count({ tenantId: 'resume' })).toBe(total);
  });
});
