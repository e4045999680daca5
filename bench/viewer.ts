/**
 * `tsx bench/viewer.ts`: the log viewer in Debian's Chromium on N stored events (default
 * 1,000,000) in an SQLite file: time from navigation to the first rows, time from adding a filter
 * to its redrawn timeline, and the native API calls the page makes per interaction. "Raw" is
 * better-sqlite3 running the SQL those screens need on the same file in the same run (the first
 * page of rows; the filtered per-day counts), so a ratio says what the page, the HTTP layer and the
 * core add on top of the database work. Not a timed test: figures go to docs/benchmarks.md.
 *
 *   tsx bench/viewer.ts [--rows N] [--repeats N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, eventlogAuditPreset } from '@eventlog/core';
import { createHandler } from '@eventlog/http';
import { native } from '@eventlog/http/native';
import { toNodeHandler } from '@eventlog/http/node';
import { viewer } from '@eventlog/viewer';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { launchChromium } from '../packages/viewer/src/test-server.js';
import { createGenerator, DAY, NOW, START } from './generate.js';
import { quantile } from './measure.js';
import { BENCH_PRESETS } from './presets.js';
import { type BenchResult, formatTable, RATIO_CONVENTION, result } from './report.js';

const { values } = parseArgs({
  // `pnpm run <script> -- --flag` passes the `--` on.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: { rows: { type: 'string', default: '1000000' }, repeats: { type: 'string', default: '5' } },
});
const rows = Number(values.rows);
const repeats = Number(values.repeats);
const TENANT = 'tenant-01';

const dir = mkdtempSync(join(tmpdir(), 'eventlog-bench-viewer-'));
const file = join(dir, 'events.db');
const log = createEventLog({ store: createSqliteStore({ filename: file }), presets: [...BENCH_PRESETS, eventlogAuditPreset] });
const handler = createHandler({
  log,
  profiles: [
    native({ authenticate: (request) => (request.headers.get('authorization') === 'Bearer bench' ? { role: 'admin' } : null) }),
    viewer(),
  ],
  shedding: false,
});
const server = createServer(toNodeHandler(handler));

/** Native API calls the page makes while `action` runs and the page settles. */
async function countCalls(page: Page, action: () => Promise<void>): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  const onRequest = (request: { url(): string }) => {
    const match = /\/eventlog\/([\w.]+)/.exec(new URL(request.url()).pathname);
    if (match && match[1] !== 'viewer') calls[match[1]!] = (calls[match[1]!] ?? 0) + 1;
  };
  page.on('request', onRequest);
  await action();
  await page.waitForLoadState('networkidle').catch(() => undefined);
  page.off('request', onRequest);
  return calls;
}

const median = (samples: number[]) => quantile(samples, 0.5);
const describe = (calls: Record<string, number>) =>
  `${Object.values(calls).reduce((a, b) => a + b, 0)} (${Object.entries(calls)
    .map(([k, v]) => `${k}×${v}`)
    .join(', ')})`;

try {
  const generator = createGenerator(rows);
  const started = Date.now();
  for (let from = 0; from < rows; from += 10_000) await log.recordMany(generator.batch(from, Math.min(10_000, rows - from)));
  console.log(
    `stored ${rows} events in ${((Date.now() - started) / 1000).toFixed(1)} s; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Raw: the same database work through better-sqlite3 on the same file.
  const raw = new Database(file, { readonly: true });
  const firstPage = raw.prepare('select * from eventlog_events order by time desc, id desc limit 100');
  const perDay = raw.prepare(
    'select (time - ?) / 86400000 as day, count(*) as n from eventlog_events where tenant_id = ? and time >= ? and time < ? group by day',
  );
  const time = (fn: () => unknown) => {
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      fn();
      samples.push(performance.now() - t);
    }
    return median(samples);
  };
  const rawFirstRows = time(() => firstPage.all());
  const rawTimeline = time(() => perDay.all(START, TENANT, START, NOW + 1));
  raw.close();

  const browser = await launchChromium();
  const firstRows: number[] = [];
  const filtered: number[] = [];
  let loadCalls: Record<string, number> = {};
  let filterCalls: Record<string, number> = {};
  let moreCalls: Record<string, number> = {};
  try {
    for (let i = 0; i < repeats; i++) {
      const context = await browser.newContext({ timezoneId: 'Europe/Berlin', viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const t0 = performance.now();
      const calls = await countCalls(page, async () => {
        await page.goto(`${base}/eventlog/viewer?since=${START}&until=${NOW + 1}#token=bench`);
        await page.locator('.scroller tbody tr').first().waitFor({ timeout: 120_000 });
        firstRows.push(performance.now() - t0);
      });
      if (i === 0) loadCalls = calls;
      await page.locator('.plot canvas').first().waitFor({ timeout: 120_000 });

      // Add a tenant filter through the form; done when the new timeline is drawn.
      filterCalls = await countCalls(page, async () => {
        await page.selectOption('.add-filter select', 'tenantId');
        await page.fill('.add-filter input', TENANT);
        const answered = page.waitForResponse((r) => r.url().includes('/eventlog/timeline?') && r.url().includes(TENANT), {
          timeout: 120_000,
        });
        const t1 = performance.now();
        await page.click('.add-filter button');
        await answered;
        await page.waitForFunction(() => document.querySelector('.plot canvas'), undefined, { timeout: 120_000 });
        filtered.push(performance.now() - t1);
      });
      if (i === 0) {
        moreCalls = await countCalls(page, async () => {
          await page.click('.end button');
          await page.waitForFunction(() => document.querySelectorAll('.scroller tbody tr').length > 100, undefined, { timeout: 120_000 });
        });
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }

  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const note = `${rows} events over ${Math.round((NOW - START) / DAY)} days, ${repeats} page loads, Chromium headless; load average ${load}`;
  const results: BenchResult[] = [
    result('sqlite+viewer', 'first rows (navigation → first row drawn)', 'time', median(firstRows), 'ms', rawFirstRows, { note }),
    result('sqlite+viewer', `filtered timeline (add tenant filter → chart redrawn)`, 'time', median(filtered), 'ms', rawTimeline, { note }),
  ];
  console.log(
    `\n${RATIO_CONVENTION}\n"raw" = better-sqlite3 running the screen's SQL (first page of 100 rows; per-day counts of one tenant) on the same file.\n`,
  );
  console.log(formatTable(results));
  console.log(
    `\nAPI calls per interaction: page load ${describe(loadCalls)}; add a filter ${describe(filterCalls)}; load more ${describe(moreCalls)}`,
  );
  console.log(
    `first rows samples (ms): ${firstRows.map((v) => v.toFixed(0)).join(', ')}; filtered timeline samples (ms): ${filtered.map((v) => v.toFixed(0)).join(', ')}`,
  );
} finally {
  server.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
}
