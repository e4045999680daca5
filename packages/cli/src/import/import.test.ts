import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FilterInput } from '@eventlog/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openContext } from '../context.js';
import { buildCli, combinedLines, interruptAfterFirstCheckpoint, postgresDb, runCli, squidLines, tempDir } from '../test-support.js';

// Each test starts real processes; on a shared 2-core machine a start can take seconds.
vi.setConfig({ testTimeout: 90_000 });

let bin: string;
beforeAll(async () => {
  bin = await buildCli();
}, 120_000);

const START = Date.UTC(2026, 2, 1, 8, 0, 0);

interface Engine {
  name: string;
  db: () => Promise<{ db: string; drop: () => Promise<void> }>;
}

const engines: Engine[] = [
  { name: 'sqlite', db: async () => ({ db: join(tempDir(), 'events.db'), drop: async () => {} }) },
  { name: 'postgres', db: postgresDb },
];

const readJsonLines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.each(engines)('eventlog import on $name', (engine) => {
  let db: string;
  let drop: () => Promise<void>;
  let dir: string;
  const cli = (args: string[], input?: string | Buffer) =>
    runCli(bin, [...args, '--db', db], {
      cwd: dir,
      env: { EVENTLOG_STATE_DIR: join(dir, 'state') },
      ...(input !== undefined ? { input } : {}),
    });
  // Counts in-process through the same store selection the CLI uses: fewer child processes, same answer.
  const count = async (filter: FilterInput) => {
    const ctx = await openContext({ db });
    try {
      return await ctx.log.count(filter);
    } finally {
      await ctx.log.close();
    }
  };

  beforeAll(async () => {
    ({ db, drop } = await engine.db());
    dir = tempDir();
  });
  afterAll(async () => {
    await drop();
  });

  it('imports a combined log, rejecting malformed lines and a truncated last line with their numbers', async () => {
    const lines = combinedLines(300, START);
    lines.splice(10, 0, 'this is not a log line');
    lines.splice(200, 0, '10.0.0.1 - - [31/Foo/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "x"');
    const file = join(dir, 'access.log');
    // The last line is cut off in the middle, as when a writer was still busy.
    writeFileSync(file, `${lines.join('\n')}\n10.0.0.9 - - [01/Mar/2026:09:00:00 +0000] "GET /partial`);
    const result = await cli(['import', file, '--rejects', join(dir, 'combined.rejects.jsonl')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('300 stored, 3 rejected (combined');
    const rejects = readJsonLines(join(dir, 'combined.rejects.jsonl'));
    expect(rejects.map((r) => r.line)).toEqual([11, 201, 303]);
    expect(rejects[0]!.reason).toBe('not a combined/common log line');
    expect(rejects[2]!.reason).toMatch(/^truncated last line/);
    expect(await count({ type: 'proxy.request', since: '2026-03-01T00:00:00Z' })).toBe(300);
    // The proxy profile's dimensions are filled: status codes are filterable.
    const forbidden = lines.filter((l) => / 403 \d+ "/.test(l)).length;
    expect(await count({ dimensions: { status_code: 403 }, since: '2026-03-01T00:00:00Z' })).toBe(forbidden);
  });

  it('imports a gzip Squid access.log from detection alone, and imports nothing twice', async () => {
    const lines = squidLines(500, START + 86_400_000);
    const file = join(dir, 'squid-access.log.gz');
    writeFileSync(file, gzipSync(`${lines.join('\n')}\n`));
    const first = await cli(['import', file, '--tenant', 'branch-1']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('500 stored, 0 rejected (squid');
    const again = await cli(['import', file, '--tenant', 'branch-1']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 stored, 0 rejected');
    expect(await count({ tenantId: 'branch-1' })).toBe(500);
    const denied = lines.filter((l) => l.includes('TCP_DENIED/403')).length;
    expect(await count({ tenantId: 'branch-1', outcome: 'DENIED' })).toBe(denied);
    const top = JSON.parse((await cli(['top', '--by', 'host', '--tenant', 'branch-1', '--json'])).stdout) as {
      value: string;
      count: number;
    }[];
    expect(top.reduce((s, r) => s + r.count, 0)).toBe(500);
  });

  it('round-trips export → import for CSV and JSON lines, including JSONL from stdin', async () => {
    const source = 'roundtrip-src';
    const events = [
      {
        type: 'app.deploy',
        time: START,
        message: 'v1.2.3 "quoted", with comma\nand a newline',
        actor: { id: 'u1', name: '=cmd()' },
        data: { version: '1.2.3' },
      },
      {
        type: 'llm.consumption',
        time: START + 1,
        tenantId: '7',
        dimensions: { model_name: 'gpt-x', token_name: 't1' },
        metrics: { quota: 12, prompt_tokens: 3, completion_tokens: 4 },
      },
      {
        type: 'proxy.request',
        time: START + 2,
        ip: '10.1.1.1',
        outcome: 'BLOCKED',
        dimensions: { host: 'x.io', status_code: 403 },
        metrics: { bytes: 99 },
      },
      {
        type: 'access.door.unlock',
        time: START + 3,
        target: { type: 'door', id: 'd-1', name: 'Front' },
        durationMs: 1.5,
        severity: 'info',
      },
    ].map((e) => ({ ...e, category: source }));
    const jsonl = `${events.map((e) => JSON.stringify(e)).join('\n')}\n{"type": "bad-no-close"\n`;
    const imported = await cli(['import', '-', '--format', 'jsonl', '--rejects', join(dir, 'stdin.rejects.jsonl')], jsonl);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('4 stored, 1 rejected (jsonl');

    // Read back in-process (fewer child processes); the CLI's own export is what is under test below.
    const stored = async (category: string) => {
      const ctx = await openContext({ db });
      try {
        const page = await ctx.log.query({ filter: { category }, sort: { field: 'time', direction: 'asc' }, limit: 100 });
        return page.items.map(({ id: _id, category: _c, ...rest }) => rest);
      } finally {
        await ctx.log.close();
      }
    };
    const originalEvents = await stored(source);
    expect(originalEvents).toHaveLength(4);
    expect(originalEvents[0]!.message).toBe(events[0]!.message);
    expect(originalEvents[1]!.dimensions.model_name).toBe('gpt-x');

    for (const format of ['csv', 'jsonl'] as const) {
      const file = join(dir, `export.${format}`);
      const exported = await cli(['export', '--format', format, '--category', source, '-o', file, '--tz', 'Europe/Berlin']);
      expect(exported.code).toBe(0);
      // Move the copy to its own category so it can be compared with the source.
      const text = readFileSync(file, 'utf8').replaceAll(source, `copy-${format}`);
      writeFileSync(file, text);
      const back = await cli(['import', file, '--rejects', join(dir, `${format}.rejects.jsonl`)]);
      expect(back.code).toBe(0);
      expect(back.stdout).toContain(`4 stored, 0 rejected (${format}`);
      expect(await stored(`copy-${format}`)).toEqual(originalEvents);
    }
  });

  it('settles a batch stored just before a hard kill, without storing it again', async () => {
    const start = START + 5 * 86_400_000;
    const lines = combinedLines(200, start, 11);
    const file = join(dir, 'crash-access.log');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const stateDir = join(dir, 'state-crash');
    const args = ['import', file, '--db', db, '--tenant', 'crash', '--batch', '100', '--state-dir', stateDir];
    expect((await runCli(bin, args, { cwd: dir })).code).toBe(0);
    // Rewind the checkpoint to what a SIGKILL after the second batch's commit leaves behind.
    const statePath = join(stateDir, readdirSync(stateDir).find((f) => f.endsWith('.json'))!);
    const done = JSON.parse(readFileSync(statePath, 'utf8')) as { offset: number; line: number; stored: number; lastId: number };
    expect(done).toMatchObject({ line: 200, stored: 200 });
    const firstHalf = Buffer.byteLength(`${lines.slice(0, 100).join('\n')}\n`);
    const crashed = {
      ...done,
      offset: firstHalf,
      line: 100,
      stored: 100,
      lastId: done.lastId - 100,
      pending: { offset: done.offset, line: 200, count: 100, probe: { type: 'proxy.request', time: start + 199_000 } },
    };
    writeFileSync(statePath, JSON.stringify(crashed));
    const resumed = await runCli(bin, args, { cwd: dir });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('the batch up to line 200 was stored before the last run stopped');
    expect(resumed.stdout).toContain('0 stored, 0 rejected');
    expect(await count({ tenantId: 'crash' })).toBe(200);
  });

  it('resumes an interrupted import without duplicates', async () => {
    const lines = combinedLines(30_000, START + 2 * 86_400_000, 7);
    const file = join(dir, 'big-access.log');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const stateDir = join(dir, 'state-resume');
    const args = ['import', file, '--db', db, '--tenant', 'resume', '--batch', '500', '--state-dir', stateDir];
    // Interrupt as soon as the first batch is checkpointed.
    const stopped = await interruptAfterFirstCheckpoint(bin, args, dir, stateDir);
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/Interrupted: stored everything read up to line (\d+)/);
    const upTo = Number(/up to line (\d+)/.exec(stopped.stderr)![1]);
    expect(upTo).toBeGreaterThan(0);
    expect(upTo).toBeLessThan(30_000);
    expect(await count({ tenantId: 'resume' })).toBe(upTo);

    const resumed = await runCli(bin, args, { cwd: dir });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resuming after line ${upTo}`);
    expect(resumed.stdout).toContain(`${(30_000 - upTo).toLocaleString('en-US')} stored, 0 rejected`);
    expect(await count({ tenantId: 'resume' })).toBe(30_000);
  }, 90_000);
});
