import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventInput } from '@eventlog/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openContext } from '../context.js';
import { buildCli, combinedLines, postgresDb, runCli, startCli, tempDir } from '../test-support.js';

// Each test starts real processes; on a shared 2-core machine a start can take seconds.
vi.setConfig({ testTimeout: 90_000 });

let bin: string;
beforeAll(async () => {
  bin = await buildCli();
}, 120_000);

const DAY = 86_400_000;

async function record(db: string, events: EventInput[]): Promise<void> {
  const ctx = await openContext({ db });
  try {
    await ctx.log.recordMany(events);
  } finally {
    await ctx.log.close();
  }
}

describe('eventlog --help and usage errors', () => {
  const commands = ['import', 'export', 'prune', 'stats', 'top', 'timeline', 'tail', 'migrate', 'doctor', 'serve', 'verify', 'jobs'];

  it('prints help with examples for the program and every command, exit 0', async () => {
    const root = await runCli(bin, ['--help']);
    expect(root.code).toBe(0);
    for (const command of commands) expect(root.stdout).toContain(command);
    expect(root.stdout).toContain('Exit codes: 0 done, 1 failure, 2 usage error');
    const helps = await Promise.all(commands.map((c) => runCli(bin, [c, '--help'])));
    helps.forEach((help, i) => {
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: eventlog ${commands[i]}`);
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain('$ eventlog');
      expect(help.stdout).toContain('--db <store>');
    });
  });

  it('exits with 2 on usage errors and 1 on failures, with one clear line', async () => {
    const dir = tempDir();
    const db = join(dir, 'u.db');
    const [unknown, badSince, badFormat, missingFile, badScheme] = await Promise.all([
      runCli(bin, ['frobnicate']),
      runCli(bin, ['stats', '--since', 'yesterdayish', '--db', db]),
      runCli(bin, ['import', '--format', 'xml', 'x.log', '--db', db]),
      runCli(bin, ['import', join(dir, 'missing.log'), '--db', db], { env: { EVENTLOG_STATE_DIR: dir } }),
      runCli(bin, ['stats', '--db', 'redis://localhost']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toContain('--since: "yesterdayish" is not a duration');
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('Allowed choices are jsonl, csv, combined, squid');
    expect(missingFile.code).toBe(1);
    expect(missingFile.stderr).toMatch(/^eventlog: Cannot read .*missing\.log: no such file\.\n$/);
    expect(badScheme.code).toBe(2);
    expect(badScheme.stderr).toContain('unknown scheme "redis://"');
    for (const r of [badSince, missingFile, badScheme]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

/** The engines every command runs on: a fresh SQLite file, a fresh PostgreSQL schema. */
const ENGINES = [
  { name: 'sqlite', db: async () => ({ db: join(tempDir(), 'events.db'), drop: async () => {} }) },
  { name: 'postgres', db: postgresDb },
];

describe.each(ENGINES)('eventlog commands on $name', (engine) => {
  let db: string;
  let drop: () => Promise<void>;
  const now = Date.now();

  beforeAll(async () => {
    ({ db, drop } = await engine.db());
    const events: EventInput[] = [];
    for (let i = 0; i < 400; i++) {
      events.push({
        type: i % 4 === 0 ? 'app.login' : 'app.view',
        time: now - (i % 40) * DAY - 1000,
        tenantId: i % 2 === 0 ? 'a' : 'b',
        actor: { id: `u${i % 5}` },
        message: `event ${i}`,
      });
    }
    await record(db, events);
  });
  afterAll(async () => {
    await drop();
  });

  it('migrate reports an up-to-date store; doctor finds the indexes and says what to fix', async () => {
    const migrate = await runCli(bin, ['migrate', '--db', db]);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain('Already up to date: nothing changed.');
    const doctor = await runCli(bin, ['doctor', '--db', db, '--json']);
    expect(doctor.code).toBe(0);
    const findings = JSON.parse(doctor.stdout) as { level: string; check: string; detail: string; fix?: string }[];
    expect(findings.find((f) => f.check === 'indexes')?.level).toBe('ok');
    expect(findings.find((f) => f.check === 'size')?.detail).toMatch(/^400 events/);
    const setting = findings.find((f) => f.check === (engine.name === 'sqlite' ? 'journal' : 'random_page_cost'));
    expect(setting).toBeDefined();
    if (engine.name === 'sqlite') expect(setting!.detail).toBe('journal_mode=wal');
    else if (setting!.level === 'warn') expect(setting!.fix).toContain('random_page_cost = 1.1');
  });

  it('migrate creates the tables of a new store, and doctor fails on a store without them', async () => {
    const fresh = engine.name === 'sqlite' ? join(tempDir(), 'fresh.db') : db.replace(/schema=(\w+)/, 'schema=$1_fresh');
    const before = await runCli(bin, ['doctor', '--db', fresh]);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain('FAIL tables');
    expect(before.stdout).toContain('fix: run `eventlog migrate`');
    const created = await runCli(bin, ['migrate', '--db', fresh]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/Created the events table eventlog_events with \d+ columns and \d+ indexes\./);
    if (engine.name === 'postgres') {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: db.split('?')[0] });
      await client.connect();
      await client.query(`drop schema if exists ${/schema=(\w+)/.exec(fresh)![1]} cascade`);
      await client.end();
    }
  });

  it('prune --dry-run prints the count that prune then deletes', async () => {
    const dry = await runCli(bin, ['prune', '--before', '30d', '--tenant', 'a', '--dry-run', '--db', db]);
    expect(dry.code).toBe(0);
    const expected = Number(dry.stdout.trim());
    // Tenant a: even i; (i % 40) days back ≥ 30 for 10 of every 40 values of i, half of them even.
    expect(expected).toBe(50);
    const real = await runCli(bin, ['prune', '--before', '30d', '--tenant', 'a', '--json', '--db', db]);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, count: expected, total: expected, interrupted: false });
    const after = await runCli(bin, ['prune', '--before', '30d', '--tenant', 'a', '--dry-run', '--db', db]);
    expect(after.stdout.trim()).toBe('0');
  });

  it('stats, top and timeline print tables, a block-character chart, and JSON', async () => {
    const [stats, top, timeline, timelineJson] = await Promise.all([
      runCli(bin, ['stats', '--since', '10d', '--type', 'app.login', '--db', db]),
      runCli(bin, ['top', '--by', 'actorId', '--tenant', 'b', '--json', '--db', db]),
      runCli(bin, ['timeline', '--since', '5d', '--bucket', 'day', '--tenant', 'b', '--db', db]),
      runCli(bin, ['timeline', '--since', '5d', '--bucket', 'day', '--tenant', 'b', '--json', '--db', db]),
    ]);
    expect(stats.code).toBe(0);
    // app.login: i % 4 == 0 → 100 events spread over (i % 40) ∈ {0,4,…,36} days; 10 days back covers 0,4,8 → 30.
    expect(stats.stdout).toMatch(/^events\s+30$/m);
    const rows = JSON.parse(top.stdout) as { value: string; count: number }[];
    expect(rows.map((r) => r.value).sort()).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
    expect(rows.reduce((s, r) => s + r.count, 0)).toBe(200);
    expect(timeline.code).toBe(0);
    expect(timeline.stdout).toMatch(/█/);
    expect(timeline.stdout).toMatch(/events per day \(UTC\); total \d+, peak \d+/);
    const points = (JSON.parse(timelineJson.stdout) as { points: { count: number }[] }).points;
    // Tenant b: odd i, so (i % 40) days back is 1 or 3 within 5 days (5 lies a second beyond): 10 events each.
    expect(points.reduce((s, p) => s + p.count, 0)).toBe(20);
    expect(points.filter((p) => p.count > 0).map((p) => p.count)).toEqual([10, 10]);
  });

  it('tail prints the events another process writes, one compact line each', async () => {
    const tail = startCli(bin, ['tail', '--interval', '100', '--max', '3', '--type', 'deploy.done', '--db', db]);
    await tail.waitFor(/Following new events/, 'stderr', 30_000);
    // Give it a poll to settle on the newest id, then write from this (another) process.
    await new Promise((r) => setTimeout(r, 300));
    await record(db, [
      { type: 'deploy.other', message: 'not shown' },
      { type: 'deploy.done', message: 'v1', actor: { id: 'ci' } },
      { type: 'deploy.done', message: 'v2', tenantId: 't' },
    ]);
    await record(db, [{ type: 'deploy.done', message: 'v3', ip: '10.0.0.1' }]);
    const result = await tail.done;
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^#\d+ \d{4}-\d\d-\d\dT[\d:.]+Z deploy\.done actor=ci "v1"$/);
    expect(lines[1]).toMatch(/deploy\.done tenant=t "v2"$/);
    expect(lines[2]).toMatch(/deploy\.done 10\.0\.0\.1 "v3"$/);
  });
});

describe('eventlog.config.ts', () => {
  it('loads the store, dimensions and metrics from a TypeScript config file in the working directory', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'eventlog.config.ts'),
      [
        'interface Config { db: string; dimensions: { name: string; indexed?: boolean }[]; metrics: { name: string }[] }',
        "const config: Config = { db: './from-config.db', dimensions: [{ name: 'region', indexed: true }], metrics: [{ name: 'cost' }] };",
        'export default config;',
      ].join('\n'),
    );
    const events = ['eu', 'eu', 'us'].map((region, i) =>
      JSON.stringify({ type: 'job.done', time: Date.UTC(2026, 0, 1, 0, i), dimensions: { region }, metrics: { cost: i + 1 } }),
    );
    const imported = await runCli(bin, ['import', '-', '--format', 'jsonl'], { cwd: dir, input: `${events.join('\n')}\n` });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('3 stored, 0 rejected');
    const stats = await runCli(bin, ['stats', '--dim', 'region=eu', '--json'], { cwd: dir });
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ count: 2, sums: { cost: 3 } });
    const doctor = await runCli(bin, ['doctor'], { cwd: dir });
    expect(doctor.stdout).toContain(`sqlite ${join(dir, 'from-config.db')}`);
    expect(doctor.stdout).toMatch(/^ok {3}indexes/m);
  });
});

describe.each(ENGINES)('eventlog serve on $name', (engine) => {
  let db: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await engine.db());
  });
  afterAll(async () => {
    await drop();
  });

  it('serves imported access-log lines through the proxy API and the native API, and prints its URL', async () => {
    const dir = tempDir();
    const file = join(dir, 'access.log');
    writeFileSync(file, `${combinedLines(50, Date.now() - 3_600_000).join('\n')}\n`);
    const imported = await runCli(bin, ['import', file, '--db', db, '--vhost', 'www.example.com'], { env: { EVENTLOG_STATE_DIR: dir } });
    expect(imported.code).toBe(0);
    const server = startCli(bin, ['serve', '--port', '0', '--db', db], {
      env: { EVENTLOG_PROXY_PASSWORD: 'pw-123', EVENTLOG_API_TOKEN: 'tok-123' },
    });
    const banner = await server.waitFor(/at (http:\/\/127\.0\.0\.1:\d+)/, 'stdout', 30_000);
    const url = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)![1]!;
    const basic = `Basic ${Buffer.from('admin:pw-123').toString('base64')}`;
    const logs = (await (await fetch(`${url}/api/logs?limit=5`, { headers: { authorization: basic } })).json()) as {
      status: string;
      total: number;
      data: { destination: string }[];
    };
    expect(logs.status).toBe('success');
    expect(logs.total).toBe(50);
    expect(logs.data[0]!.destination).toMatch(/^www\.example\.com\//);
    expect((await fetch(`${url}/api/logs`)).status).toBe(401);
    const native = await fetch(`${url}/eventlog/stats`, { headers: { authorization: 'Bearer tok-123' } });
    expect(native.status).toBe(200);
    expect(((await native.json()) as { data: { count: number } }).data.count).toBe(50);
    // The log viewer: the printed link's page, and its token reading the native API.
    const link = await server.waitFor(/(http:\/\/\S+\/eventlog\/viewer)#token=(\S+)/, 'stdout', 10_000);
    const [, page, viewerToken] = /(http:\/\/\S+\/eventlog\/viewer)#token=(\S+)/.exec(link)!;
    const html = await fetch(page!);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    const stats = await fetch(`${url}/eventlog/stats`, { headers: { authorization: `Bearer ${viewerToken}` } });
    expect(((await stats.json()) as { data: { count: number } }).data.count).toBe(50);
    server.child.kill('SIGINT');
    const stopped = await server.done;
    expect(stopped.code).toBe(0);
  });
});
