/**
 * `tsx bench/http-overhead.ts`: what the HTTP layer costs without a socket. The native
 * `GET /eventlog/events?tenantId=…&limit=50` through `toNodeHandler(createHandler(…))`, called with
 * a minimal fake `req`/`res` (the binding, the handler, the route, the core call and the answer's
 * JSON), against the route's core call alone (`log.view({ principal }).query(…)` with the request's
 * signal) and against `log.query` with the same filter; each side also serialises the same
 * envelope. Sides run interleaved, rotating who goes first, and report CPU µs per request (mean
 * and the mean of the fastest 90 %). `pnpm bench http` measures the same page over a real socket.
 *
 *   tsx bench/http-overhead.ts [--rows N] [--rounds N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { type CursorResult, createEventLog, eventlogAuditPreset } from '@eventlog/core';
import { createHandler, native } from '@eventlog/http';
import { toNodeHandler } from '@eventlog/http/node';
import { createGenerator, NOW, TENANTS } from './generate.js';
import { BENCH_PRESETS } from './presets.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: { rows: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '3000' } },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const dir = mkdtempSync(join(tmpdir(), 'eventlog-bench-http-overhead-'));
const log = createEventLog({
  store: createSqliteStore({ filename: join(dir, 'events.db') }),
  presets: [...BENCH_PRESETS, eventlogAuditPreset],
  clock: () => NOW,
});

/** The members of a Node response the binding uses for a JSON answer. */
function fakeResponse(done: (bytes: number) => void) {
  return {
    destroyed: false,
    headersSent: false,
    writableFinished: false,
    once() {},
    on() {},
    off() {},
    writeHead(status: number) {
      if (status !== 200) throw new Error(`HTTP ${status}`);
      this.headersSent = true;
    },
    end(text: string) {
      this.writableFinished = true;
      done(Buffer.byteLength(text));
    },
  };
}

try {
  const generator = createGenerator(rows);
  for (let from = 0; from < rows; from += 10_000) await log.recordMany(generator.batch(from, Math.min(10_000, rows - from)));
  const handler = createHandler({ log, profiles: [native({ authenticate: () => ({ role: 'admin' }) })], checkPresets: false });
  const listener = toNodeHandler(handler);
  const tenant = (i: number) => TENANTS[i % TENANTS.length] as string;
  const envelope = (page: { items: unknown[]; nextCursor: string | null }) =>
    Buffer.byteLength(JSON.stringify({ data: page.items, nextCursor: page.nextCursor }));
  const sides: [string, (i: number) => Promise<number>][] = [
    ['core', async (i) => envelope(await log.query({ filter: { tenantId: tenant(i) }, limit: 50 }))],
    [
      'route',
      async (i) =>
        envelope(
          (await log
            .view({ principal: { role: 'admin' } })
            .query(
              { filter: { tenantId: tenant(i) }, limit: 50, cursor: null, sort: { field: 'time', direction: 'desc' } },
              { signal: new AbortController().signal },
            )) as CursorResult,
        ),
    ],
    [
      'handler',
      (i) =>
        new Promise<number>((resolve) => {
          const req = { method: 'GET', url: `/eventlog/events?tenantId=${tenant(i)}&limit=50`, headers: { host: '127.0.0.1:3000' } };
          listener(req as unknown as IncomingMessage, fakeResponse(resolve) as unknown as ServerResponse);
        }),
    ],
  ];
  const bytes = await Promise.all(sides.map(([, side]) => side(0)));
  if (new Set(bytes).size !== 1) throw new Error(`the sides answer different bytes: ${bytes.join(', ')}`);
  for (let i = 0; i < 200; i++) for (const [, side] of sides) await side(i);
  const cpu = sides.map(() => [] as number[]);
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < sides.length; k++) {
      const s = (i + k) % sides.length;
      const c0 = process.cpuUsage();
      await (sides[s] as [string, (i: number) => Promise<number>])[1](i);
      const c = process.cpuUsage(c0);
      (cpu[s] as number[]).push(c.user + c.system);
    }
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const fastest = (v: number[]) => mean([...v].sort((a, b) => a - b).slice(0, Math.floor(v.length * 0.9)));
  const [core] = cpu as [number[]];
  console.log(
    `${rows} events, ${rounds} rounds, ${bytes[0]} bytes a page, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  for (const [s, [name]] of sides.entries()) {
    const v = cpu[s] as number[];
    console.log(
      `${name.padEnd(8)} ${mean(v).toFixed(0).padStart(6)} µs CPU (fastest 90 %: ${fastest(v).toFixed(0)}), ÷ core ${(mean(v) / mean(core)).toFixed(2)}`,
    );
  }
} finally {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
}
