/**
 * `pnpm run bench:load`: load shedding under a flood of expensive requests (issue 16, defect 8).
 *
 * A demo-like Express server (new-api, the proxy admin API and the native API through
 * `eventlogRouter`, one SQLite file with N events) runs in a child process, so the load generator
 * does not share its event loop. For a fixed window, C clients each send expensive requests in a
 * loop (new-api `/api/log/stat`, proxy `/api/logs/stats`, a native CSV export of a few thousand
 * rows, in turn); a refused client waits what `Retry-After` says, as a well-behaved client does.
 * Meanwhile a prober reads a cheap endpoint (a native keyset page) four times a second (each probe gets 10 s past the window's end to answer). The run is
 * done twice on the same file: shedding off (what the handler did before), then on with its
 * defaults. Reported per run: the cheap endpoint's p50/p99/max latency and how many probes
 * answered, and the expensive requests answered 200, refused 503 and unfinished at the window's end.
 *
 *   pnpm run bench:load [--rows 100000] [--clients 500] [--seconds 30] [--modes off,on] [--max-concurrent N] [--db FILE] [--json FILE]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, eventlogAuditPreset } from '@eventlog/core';
import { eventlogRouter } from '@eventlog/express';
import {
  native,
  newApi,
  newApiEvent,
  newApiPreset,
  type Profile,
  proxyLogs,
  proxyLogsPreset,
  proxyRequestEvent,
  proxyUsers,
  type Route,
  staticTokens,
  withCost,
} from '@eventlog/http';
import express from 'express';
import { DEFAULT_SEED, Rng } from './generate.js';
import { quantile } from './measure.js';

const { values } = parseArgs({
  // `pnpm run <script> -- --flag` passes the `--` on.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    rows: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '30' },
    json: { type: 'string' },
    // An SQLite file to keep between runs; seeded only when it holds no events.
    db: { type: 'string' },
    // Internal: the child process that serves.
    serve: { type: 'string' },
    shedding: { type: 'string', default: 'on' },
    // Which runs to do: shedding off, on, or both.
    modes: { type: 'string', default: 'off,on' },
    // Overrides the handler's default, to compare settings.
    'max-concurrent': { type: 'string' },
  },
});

const NEW_API_HEADERS = { authorization: 'Bearer bench-admin', 'New-Api-User': '1' };
const PROXY_HEADERS = { authorization: `Basic ${Buffer.from('admin:bench-password').toString('base64')}` };
const EXPORT_ROWS = 5000;
const PROBE_EVERY_MS = 250;
const PROBE_GRACE_MS = 10_000;

/** The expensive routes of this server; the profiles may mark more themselves. */
const EXPENSIVE = new Set(['/api/log/stat', '/api/log/self/stat', '/api/log/search', '/api/logs/stats', '/api/logs/timeline']);
const marked = (profile: Profile) =>
  withCost(profile, (route: Route) => {
    const paths = typeof route.path === 'string' ? [route.path] : route.path;
    return paths.some((p) => EXPENSIVE.has(p) || p.endsWith('/export.csv') || p.endsWith('/stats') || p.endsWith('/timeline'))
      ? 'expensive'
      : undefined;
  });

function openLog(filename: string) {
  return createEventLog({ store: createSqliteStore({ filename }), presets: [newApiPreset, proxyLogsPreset, eventlogAuditPreset] });
}

async function serve(filename: string, shedding: boolean): Promise<void> {
  const log = openLog(filename);
  await log.ready();
  const app = express();
  app.use(
    eventlogRouter({
      log,
      profiles: [
        marked(newApi({ authenticate: staticTokens([{ token: 'bench-admin', userId: 1, role: 'admin' }]) })),
        marked(
          proxyLogs({
            authenticate: proxyUsers([{ username: 'admin', password: 'bench-password' }]),
            jwtSecret: 'bench-secret-bench-secret-bench-secret',
          }),
        ),
        marked(native({ authenticate: () => ({ role: 'admin' }) })),
      ],
      ...(shedding
        ? values['max-concurrent']
          ? { shedding: { maxConcurrent: Number(values['max-concurrent']) } }
          : {}
        : { shedding: false }),
    }),
  );
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.stdout.write(`LISTENING ${(server.address() as AddressInfo).port}\n`);
  if (process.env.LOAD_DEBUG) {
    const { monitorEventLoopDelay } = await import('node:perf_hooks');
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    setInterval(() => {
      console.error(`loop max ${(h.max / 1e6).toFixed(0)} ms p50 ${(h.percentile(50) / 1e6).toFixed(0)}`);
      h.reset();
    }, 1000).unref();
  }
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => void log.close().then(() => process.exit(0)));
  });
}

async function seed(filename: string, rows: number): Promise<void> {
  const log = openLog(filename);
  const stored = await log.count();
  if (stored > 0) {
    console.log(`using the ${stored} events already in ${filename}`);
    await log.close();
    return;
  }
  const rng = new Rng(DEFAULT_SEED);
  const now = Date.now();
  const models = ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet', 'deepseek-chat'];
  const hosts = ['example.com:443', 'http://downloads.example.org/setup.zip', 'api.example.net:443', 'cdn.example.io:443'];
  const started = performance.now();
  for (let from = 0; from < rows; from += 10_000) {
    const batch: Parameters<typeof log.recordMany>[0][number][] = [];
    for (let i = from; i < Math.min(rows, from + 10_000); i++) {
      const time = now - rng.int(7 * 86_400_000);
      if (i % 2 === 0) {
        const user = 1 + rng.int(200);
        batch.push(
          newApiEvent({
            kind: 'consume',
            user_id: user,
            username: `user${user}`,
            created_at: Math.floor(time / 1000),
            token_name: `token${rng.int(20)}`,
            model_name: models[rng.int(models.length)]!,
            quota: rng.range(10, 5000),
            prompt_tokens: rng.range(10, 2000),
            completion_tokens: rng.range(10, 2000),
            use_time: rng.range(1, 30),
            channel_id: 1 + rng.int(5),
            group: 'default',
            ip: `10.0.${rng.int(256)}.${rng.int(256)}`,
          }),
        );
      } else {
        const status = rng.next() < 0.1 ? 403 : 200;
        batch.push(
          proxyRequestEvent({
            time,
            clientIp: `192.168.${rng.int(4)}.${rng.int(256)}`,
            method: rng.next() < 0.7 ? 'CONNECT' : 'GET',
            destination: hosts[rng.int(hosts.length)]!,
            status,
            bytes: rng.range(0, 1_000_000),
            userAgent: 'Mozilla/5.0',
          }),
        );
      }
    }
    await log.recordMany(batch);
  }
  await log.close();
  console.log(`stored ${rows} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function startServer(filename: string, shedding: boolean): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--serve',
      filename,
      '--shedding',
      shedding ? 'on' : 'off',
      ...(values['max-concurrent'] ? ['--max-concurrent', values['max-concurrent']] : []),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  for await (const chunk of child.stdout!) {
    output += String(chunk);
    const match = /LISTENING (\d+)/.exec(output);
    if (match) return { child, base: `http://127.0.0.1:${match[1]}` };
  }
  throw new Error('the server exited before listening');
}

interface PhaseResult {
  shedding: boolean;
  cheap: { count: number; failed: number; unanswered: number; p50: number; p99: number; max: number };
  expensive: { ok: number; refused: number; failed: number; unfinished: number; okP50: number; okP99: number };
}

async function phase(filename: string, shedding: boolean, clients: number, seconds: number): Promise<PhaseResult> {
  const { child, base } = await startServer(filename, shedding);
  const heavy = [
    { url: `${base}/api/log/stat?type=2`, headers: NEW_API_HEADERS },
    { url: `${base}/api/logs/stats`, headers: PROXY_HEADERS },
    { url: `${base}/eventlog/export.csv?maxRows=${EXPORT_ROWS}`, headers: {} },
  ];
  const cheapUrl = `${base}/eventlog/events?limit=20`;
  // Warm up: one of each, so that the first probe does not pay for statement preparation.
  for (const h of heavy) await (await fetch(h.url, { headers: h.headers })).arrayBuffer();
  await (await fetch(cheapUrl)).arrayBuffer();

  const window = new AbortController();
  const end = Date.now() + seconds * 1000;
  const timer = setTimeout(() => window.abort(), seconds * 1000);
  const expensive = { ok: 0, refused: 0, failed: 0, unfinished: 0, okLatency: [] as number[] };
  const client = async (index: number) => {
    for (let n = index; Date.now() < end; n++) {
      const h = heavy[n % heavy.length]!;
      const t = performance.now();
      try {
        const response = await fetch(h.url, { headers: h.headers, signal: window.signal });
        await response.arrayBuffer();
        if (response.status === 200) {
          expensive.ok++;
          expensive.okLatency.push(performance.now() - t);
        } else if (response.status === 503) {
          expensive.refused++;
          const wait = Number(response.headers.get('retry-after') ?? '1') * 1000;
          await new Promise((resolve) => setTimeout(resolve, Math.min(wait, Math.max(0, end - Date.now()))));
        } else expensive.failed++;
      } catch {
        if (window.signal.aborted) expensive.unfinished++;
        else expensive.failed++;
      }
    }
  };
  const cheap = { latency: [] as number[], failed: 0, unanswered: 0 };
  // Probes started near the end get PROBE_GRACE_MS more to answer, so their latency is measured, not cut.
  const probeWindow = new AbortController();
  const probeTimer = setTimeout(() => probeWindow.abort(), seconds * 1000 + PROBE_GRACE_MS);
  // Open loop: a probe starts every PROBE_EVERY_MS whether or not the last one answered, as users'
  // page views do; a probe still waiting at the window's end counts as unanswered.
  const probe = async () => {
    const t = performance.now();
    try {
      const response = await fetch(cheapUrl, { signal: probeWindow.signal });
      await response.arrayBuffer();
      if (response.status === 200) cheap.latency.push(performance.now() - t);
      else cheap.failed++;
    } catch {
      if (probeWindow.signal.aborted) cheap.unanswered++;
      else cheap.failed++;
    }
  };
  const prober = async () => {
    const probes: Promise<void>[] = [];
    // Let the flood arrive first: the probes measure the saturated server.
    await new Promise((resolve) => setTimeout(resolve, 200));
    while (Date.now() < end) {
      probes.push(probe());
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
    await Promise.all(probes);
  };
  await Promise.all([...Array.from({ length: clients }, (_, i) => client(i)), prober()]);
  clearTimeout(timer);
  clearTimeout(probeTimer);
  child.kill('SIGTERM');
  await once(child, 'exit');
  return {
    shedding,
    cheap: {
      count: cheap.latency.length,
      failed: cheap.failed,
      unanswered: cheap.unanswered,
      p50: quantile(cheap.latency, 0.5),
      p99: quantile(cheap.latency, 0.99),
      max: Math.max(...cheap.latency),
    },
    expensive: {
      ok: expensive.ok,
      refused: expensive.refused,
      failed: expensive.failed,
      unfinished: expensive.unfinished,
      okP50: quantile(expensive.okLatency, 0.5),
      okP99: quantile(expensive.okLatency, 0.99),
    },
  };
}

if (values.serve) {
  await serve(values.serve, values.shedding !== 'off');
} else {
  const rows = Number(values.rows);
  const clients = Math.min(Number(values.clients), 2000);
  const seconds = Math.min(Number(values.seconds), 300);
  const dir = mkdtempSync(join(tmpdir(), 'eventlog-bench-load-'));
  try {
    const filename = values.db ?? join(dir, 'events.db');
    await seed(filename, rows);
    const results: PhaseResult[] = [];
    for (const shedding of values.modes.split(',').map((mode) => mode.trim() === 'on')) {
      const setting = values['max-concurrent'] ? `maxConcurrent ${values['max-concurrent']}` : 'defaults';
      console.log(`\n${clients} clients for ${seconds} s, shedding ${shedding ? `on (${setting})` : 'off'} …`);
      const result = await phase(filename, shedding, clients, seconds);
      results.push(result);
      const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : '–');
      console.log(
        `  cheap page: ${result.cheap.count} answered, p50 ${ms(result.cheap.p50)}, p99 ${ms(result.cheap.p99)}, max ${ms(result.cheap.max)}` +
          `, ${result.cheap.unanswered} unanswered at the end` +
          (result.cheap.failed ? `, ${result.cheap.failed} failed` : ''),
      );
      console.log(
        `  expensive: ${result.expensive.ok} answered 200 (p50 ${ms(result.expensive.okP50)}, p99 ${ms(result.expensive.okP99)}), ` +
          `${result.expensive.refused} refused 503, ${result.expensive.unfinished} unfinished at the end, ${result.expensive.failed} failed`,
      );
    }
    if (values.json) writeFileSync(values.json, `${JSON.stringify({ rows, clients, seconds, results }, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
