// The totals, blocked counts and hourly series with rollups on: the same answers as raw rows, from
// grouped reads the rollups answer, with the 403-by-outcome reads skipped only when they are 0.
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { countRollupAnswers } from '@eventlog/adapters/testing';
import { createEventLog } from '@eventlog/core';
import { proxyLogs, proxyLogsPreset, proxyRequestEvent } from '@eventlog/http';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestHandler, send } from '../../testing/profile-test-kit.js';
import { ADMIN, HOUR, MIN, NOW, ROWS, SECRET, users } from './fixture.js';

const logs: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close()));
});

async function serve(rows: typeof ROWS, rollups: boolean) {
  const store = createSqliteStore();
  const reads = countRollupAnswers(store);
  const log = createEventLog({ store, presets: [proxyLogsPreset], clock: () => NOW, rollups });
  logs.push(log);
  await log.recordMany(
    rows.map(([ago, clientIp, method, destination, status, bytes, userAgent, outcome]) =>
      proxyRequestEvent({ time: NOW - ago * MIN, clientIp, method, destination, status, bytes, userAgent, outcome, durationMs: 12 }),
    ),
  );
  const handler = createTestHandler(log, [proxyLogs({ authenticate: users, jwtSecret: SECRET, clock: () => NOW })]);
  const get = async (path: string) => {
    reads.answered = 0;
    reads.raw = 0;
    const response = await send(handler, `http://proxy.test${path}`, { headers: { Authorization: ADMIN } });
    expect(response.status, path).toBe(200);
    return { body: JSON.parse(response.text), reads: { ...reads } };
  };
  return get;
}

const PATHS = [
  '/api/logs/stats',
  '/api/dashboard/summary',
  '/api/traffic/statistics',
  '/api/traffic/statistics?hours=1',
  '/api/traffic/statistics?hours=720',
  '/api/logs/timeline',
  '/api/logs/timeline?hours=3',
  '/api/logs/timeline?hours=720',
];
// The seed rows hold one 403 whose outcome is ALLOWED (20 hours ago, to a raw IP).
const WITHOUT_UNBLOCKED_403 = ROWS.filter((r) => r[7] !== 'ALLOWED');

describe('proxyLogs with rollups', () => {
  for (const [label, rows] of [
    ['the seed rows', ROWS],
    ['no 403 with an unblocked outcome', WITHOUT_UNBLOCKED_403],
  ] as const) {
    it(`answers the totals, blocks and hours as raw rows do (${label})`, async () => {
      const [raw, rolled] = await Promise.all([serve(rows, false), serve(rows, true)]);
      for (const path of PATHS) expect((await rolled(path)).body, path).toEqual((await raw(path)).body);
      // And as the rows themselves say: blocked is outcome BLOCKED/DENIED or status 403.
      const events = rows.map(([ago, , method, destination, status, , , outcome]) => ({
        ...proxyRequestEvent({ method, destination, status, outcome }),
        time: NOW - ago * MIN,
      }));
      const isBlocked = (e: (typeof events)[number]) => e.outcome !== 'ALLOWED' || e.dimensions?.status_code === 403;
      for (const hours of [3, 24]) {
        const since = Math.floor((NOW - (hours - 1) * HOUR) / HOUR) * HOUR;
        const expected = Array.from({ length: hours }, (_, i) => {
          const inHour = events.filter((e) => e.time >= since + i * HOUR && e.time < since + (i + 1) * HOUR);
          return { total: inHour.length, blocked: inHour.filter(isBlocked).length };
        });
        const timeline = (await rolled(`/api/logs/timeline?hours=${hours}`)).body.data;
        expect(
          timeline.map(({ total, blocked }: { total: number; blocked: number }) => ({ total, blocked })),
          `${hours} h`,
        ).toEqual(expected);
        const traffic = (await rolled(`/api/traffic/statistics?hours=${hours}`)).body.data;
        expect(traffic.hourly.map(({ total, blocked }: { total: number; blocked: number }) => ({ total, blocked }))).toEqual(expected);
        expect(traffic.blocked_requests).toBe(events.filter((e) => e.time > NOW - hours * HOUR && isBlocked(e)).length);
      }
    });
  }

  it('counts blocked requests to raw IPs from rollups, and reads the 403s by outcome only when some are unblocked', async () => {
    const rolled = await serve(WITHOUT_UNBLOCKED_403, true);
    const stats = await rolled('/api/logs/stats');
    expect(stats.body.data).toEqual({ total_count: 10, blocked_count: 3, ip_blocks_count: 2, last_import: '2026-03-25 14:32:10' });
    // Grouped counts by outcome: all requests, their 403s, the raw-IP ones (the latest row is a page).
    expect(stats.reads).toEqual({ answered: 3, raw: 0 });
    // Stats (count and bytes) and RPM, 2 grouped counts, 2 tops, 2 hourly timelines (all, outcome blocked).
    expect((await rolled('/api/traffic/statistics')).reads).toEqual({ answered: 7, raw: 1 });
    // Today's counts by outcome need no second read: all requests have no unblocked 403.
    expect((await rolled('/api/dashboard/summary')).reads).toEqual({ answered: 3, raw: 0 });
    expect((await rolled('/api/logs/timeline?hours=720')).reads).toEqual({ answered: 3, raw: 0 });

    const seed = await serve(ROWS, true);
    const withUnblocked = await seed('/api/logs/stats');
    expect(withUnblocked.body.data).toMatchObject({ blocked_count: 4, ip_blocks_count: 3 });
    expect(withUnblocked.reads).toEqual({ answered: 3, raw: 1 });
    expect((await seed('/api/traffic/statistics')).reads).toEqual({ answered: 9, raw: 1 });
  });
});
