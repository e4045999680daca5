// The client and domain statistics with rollups on: the answers of raw rows, with the blocked
// counts read as /api/logs/stats reads them (blocked outcomes from the `ip` or `host` table; the
// 403s with another outcome only when the range holds some), so no read names `status_code` beside
// `ip` or `host` unless it must.
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { countRollupAnswers } from '@eventlog/adapters/testing';
import { createEventLog, type EventInput } from '@eventlog/core';
import { proxyLogs, proxyLogsPreset, proxyRequestEvent } from '@eventlog/http';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestHandler, send } from '../../testing/profile-test-kit.js';
import { ADMIN, HOUR, MIN, NOW, ROWS, SECRET, users } from './fixture.js';

const logs: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close()));
});

const eventsOf = (rows: typeof ROWS): EventInput[] =>
  rows.map(([ago, clientIp, method, destination, status, bytes, userAgent, outcome]) =>
    proxyRequestEvent({ time: NOW - ago * MIN, clientIp, method, destination, status, bytes, userAgent, outcome }),
  );

async function serve(events: readonly EventInput[], rollups: boolean, gdpr: boolean) {
  const store = createSqliteStore();
  const reads = countRollupAnswers(store);
  const log = createEventLog({ store, presets: [proxyLogsPreset], clock: () => NOW, rollups });
  logs.push(log);
  await log.recordMany(events);
  const handler = createTestHandler(log, [proxyLogs({ authenticate: users, jwtSecret: SECRET, clock: () => NOW, gdpr })]);
  return async (path: string) => {
    reads.answered = 0;
    reads.raw = 0;
    const response = await send(handler, `http://proxy.test${path}`, { headers: { Authorization: ADMIN } });
    expect(response.status, path).toBe(200);
    return { body: JSON.parse(response.text), reads: { ...reads } };
  };
}

// The seed rows hold one 403 whose outcome is ALLOWED (20 hours ago, from 192.168.1.14 to 10.0.0.1).
const SEED = eventsOf(ROWS);
const WITHOUT_UNBLOCKED_403 = eventsOf(ROWS.filter((r) => r[7] !== 'ALLOWED'));
// A 403 without an outcome (recorded by hand, not through proxyRequestEvent): no filter selects it by outcome.
const WITH_NULL_OUTCOME = [
  ...SEED,
  {
    ...proxyRequestEvent({ time: NOW - 5 * HOUR, clientIp: '192.168.1.15', method: 'GET', destination: 'http://x.test/', status: 403 }),
    outcome: null,
  },
];

const isBlocked = (e: EventInput) => ['BLOCKED', 'DENIED'].includes(String(e.outcome).toUpperCase()) || e.dimensions?.status_code === 403;

// [data set, raw reads of a request over all time, and over the last 2 hours (no unblocked 403 there)]
const CASES = [
  ['no 403 with an unblocked outcome', WITHOUT_UNBLOCKED_403, 0],
  ['a 403 with the outcome ALLOWED', SEED, 1],
  ['a 403 without an outcome', WITH_NULL_OUTCOME, 2],
] as const;

describe('proxy client and domain statistics from rollups', () => {
  for (const [label, events, rawReads] of CASES) {
    for (const gdpr of [false, true]) {
      it(`answer as raw rows do, blocked from the rollups (${label}${gdpr ? ', GDPR mode' : ''})`, async () => {
        const [raw, rolled] = await Promise.all([serve(events, false, gdpr), serve(events, true, gdpr)]);
        for (const [path, hours] of [
          ['/api/clients/statistics', undefined],
          ['/api/clients/statistics?limit=3&hours=2', 2],
          ['/api/domains/statistics', undefined],
          ['/api/domains/statistics?limit=2&hours=2', 2],
        ] as const) {
          const a = await rolled(path);
          const b = await raw(path);
          expect(a.body, path).toEqual(b.body);
          expect(a.body.data.length, path).toBeGreaterThan(0);
          // The top list, the 403s by outcome and the blocked outcomes per value, from rollups; the
          // 403s with another outcome per value (raw: they name two rolled-up columns) only when
          // the range holds some, in one read when a filter can select their outcomes, else two.
          expect(a.reads, path).toEqual({ answered: 3, raw: hours === undefined ? rawReads : 0 });
          // And as the rows say (unmasked values only): blocked is outcome blocked/denied or status 403.
          if (path.startsWith('/api/domains') || !gdpr) {
            const inRange = events.filter((e) => hours === undefined || Number(e.time) >= NOW - hours * HOUR);
            for (const row of a.body.data as { client_ip?: string; domain?: string; requests: number; blocked: number }[]) {
              const mine = inRange.filter((e) => (row.domain === undefined ? e.ip === row.client_ip : e.dimensions?.host === row.domain));
              expect({ requests: row.requests, blocked: row.blocked }, `${path} ${row.domain ?? row.client_ip}`).toEqual({
                requests: mine.length,
                blocked: mine.filter(isBlocked).length,
              });
            }
          }
        }
      });
    }
  }
});
