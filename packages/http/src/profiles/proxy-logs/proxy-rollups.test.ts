import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { countRollupAnswers, seeded } from '@eventlog/adapters/testing';
import { createEventLog, type EventLog, eventlogAuditPreset } from '@eventlog/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHandler } from '../../testing/profile-test-kit.js';
import { native } from '../native/index.js';
import { ADMIN, call, HOUR, NOW, SECRET, users } from './fixture.js';
import { proxyLogs, proxyLogsPreset, proxyRequestEvent } from './index.js';

// The client and domain analytics, and the native top by ip, over a log reading rollups (the
// proxy preset rolls up `host` and `ip`) and a log on the same store reading raw rows only: the
// answers must be identical, and the rolled log must take its top lists from rollups.

const store = createSqliteStore();
const clock = () => NOW;
let rolled: EventLog;
let raw: EventLog;
const counter = countRollupAnswers(store);

const CLIENTS = Array.from({ length: 40 }, (_, i) => (i % 9 === 8 ? `2001:db8::${i}` : `10.1.${i % 3}.${i}`));
const HOSTS = ['example.com', 'api.example.com', 'cdn.example.net', 'tracker.example.net', '198.51.100.7', 'updates.example.com'];

beforeAll(async () => {
  rolled = createEventLog({ store, presets: [proxyLogsPreset, eventlogAuditPreset], clock, rollups: true, closeStore: false });
  raw = createEventLog({ store, presets: [proxyLogsPreset, eventlogAuditPreset], clock, rollups: false, closeStore: false });
  const rng = seeded(1407);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rng() * rng() * values.length)] as T;
  // Three days of requests with millisecond times, so every range has raw edges as well as whole buckets.
  const events = Array.from({ length: 4000 }, () => {
    const status = pick([200, 200, 403, 404, '200 Connection established', '403 Forbidden']);
    const host = pick(HOSTS);
    return proxyRequestEvent({
      time: NOW - Math.floor(rng() * 72 * HOUR),
      clientIp: rng() < 0.05 ? null : pick(CLIENTS),
      method: rng() < 0.5 ? 'CONNECT' : 'GET',
      destination: rng() < 0.5 ? `${host}:443` : `http://${host}/x`,
      status,
      bytes: Math.floor(rng() * 10_000),
      outcome: rng() < 0.1 ? pick(['BLOCKED', 'DENIED', 'ALLOWED']) : null,
    });
  });
  await rolled.recordMany(events);
});

afterAll(async () => {
  await rolled.close();
  await raw.close();
  await store.close();
});

const handlerOf = (log: EventLog, gdpr: boolean) =>
  createTestHandler(log, [
    proxyLogs({ authenticate: users, jwtSecret: SECRET, clock, gdpr }),
    native({ authenticate: () => ({ role: 'admin' }) }),
  ]);

describe('proxy analytics from rollups of host and ip', () => {
  for (const gdpr of [false, true]) {
    it(`answer as raw rows do${gdpr ? ' in GDPR mode (masked addresses)' : ''}, the top lists taken from rollups`, async () => {
      const fromRollups = handlerOf(rolled, gdpr);
      const fromRows = handlerOf(raw, gdpr);
      for (const path of [
        '/api/clients/statistics?limit=20',
        '/api/clients/statistics?limit=5&hours=30',
        '/api/domains/statistics?limit=10',
        '/api/domains/statistics?limit=3&hours=7',
        '/api/analytics/top-domains',
        '/api/analytics/top-domains?hours=50&limit=4',
        '/eventlog/top?by=ip&limit=15',
        '/eventlog/top?by=host&limit=5',
      ]) {
        const before = counter.answered;
        const a = await call(path, { auth: ADMIN }, fromRollups);
        const answered = counter.answered - before;
        const b = await call(path, { auth: ADMIN }, fromRows);
        expect(a.status, path).toBe(200);
        expect(a.body, path).toEqual(b.body);
        expect(Array.isArray(a.body.data) && a.body.data.length > 0, path).toBe(true);
        // Every endpoint here reads its top list from the host or ip table (the statistics' counts
        // of 403s with an unblocked outcome, which this data holds, name two marked columns and
        // stay raw; proxy-statistics-rollups.test.ts counts every read).
        expect(answered, `${path}: reads answered from rollups`).toBeGreaterThanOrEqual(1);
        // The raw log never asks the rollups.
        expect(counter.answered - before, path).toBe(answered);
      }
    });
  }
});
