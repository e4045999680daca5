import { isEventLogError } from '@eventlog/core';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../context.js';
import { DAY, HOUR, MINUTE, NOW } from '../fixtures.js';

/** Statistics and live state through the core API: sums, rpm/tpm, DST-correct timelines, top-N, latest, sessions. */
export function statsSuite(ctx: SuiteContext): void {
  const { test, setup, usage, fill } = ctx;
  describe('statistics', () => {
    test('stats sum every metric as numbers and count rpm/tpm over the last 60 s', async () => {
      const { log } = await setup();
      await fill(log, 60);
      await log.record(usage(0, { time: NOW - 30_000, tenantId: 'tenant-0' }));
      const all = await log.stats();
      expect(all.count).toBe(61);
      expect(all.sums.quota).toBe(17_700);
      expect(all.sums.prompt_tokens).toBe(1770);
      expect(all.sums.amount).toBeCloseTo(442.5, 6);
      expect(typeof all.sums.quota).toBe('number');
      expect(all.rpm).toBe(2);
      expect(all.tpm).toBe(0);
      const scoped = await log.stats({ tenantId: 'tenant-1', since: NOW - 30 * MINUTE });
      expect(scoped.count).toBe(10);
      expect(scoped.rpm).toBe(0);
      const recent = await log.stats({ since: NOW - 5 * MINUTE, until: NOW - 4 * MINUTE });
      expect(recent.count).toBe(1);
      expect(recent.rpm).toBe(2);
    });

    test('tpm sums the token metrics of recent events', async () => {
      const { log, clock } = await setup();
      await log.record(usage(0, { time: NOW - 10_000, metrics: { prompt_tokens: 300, completion_tokens: 700 } }));
      await log.record(usage(0, { time: NOW - 70_000, metrics: { prompt_tokens: 5, completion_tokens: 5 } }));
      expect(await log.stats()).toMatchObject({ rpm: 1, tpm: 1000 });
      clock.now = NOW + 60_000;
      expect(await log.stats()).toMatchObject({ rpm: 0, tpm: 0 });
    });

    test('large sums stay exact', async () => {
      const { log } = await setup();
      await log.recordMany(Array.from({ length: 10 }, (_, i) => usage(i, { metrics: { quota: 2 ** 45 } })));
      expect((await log.stats()).sums.quota).toBe(10 * 2 ** 45);
    });

    test('hourly timeline fills empty buckets and sums metrics', async () => {
      const { log } = await setup();
      await log.recordMany([
        usage(0, { time: NOW - 5 * HOUR + 1, metrics: { quota: 5 } }),
        usage(0, { time: NOW - 5 * HOUR + 2, metrics: { quota: 7 } }),
        usage(0, { time: NOW - 1, metrics: { quota: 1 } }),
      ]);
      const timeline = await log.timeline({ bucket: 'hour', filter: { since: NOW - 6 * HOUR, until: NOW }, metrics: ['quota'] });
      expect(timeline.points).toHaveLength(6);
      expect(timeline.points.map((p) => p.count)).toEqual([0, 2, 0, 0, 0, 1]);
      expect(timeline.points[1]?.sums.quota).toBe(12);
      expect(timeline.points[0]?.label).toBe('2026-03-29T06:00:00Z');
    });

    test('day buckets follow the time zone across a DST change', async () => {
      const { log } = await setup();
      // Europe/Berlin: 2026-03-29 has 23 hours (clocks jump from 02:00 to 03:00).
      const midnight28 = Date.UTC(2026, 2, 27, 23); // 2026-03-28 00:00 +01:00
      const midnight29 = Date.UTC(2026, 2, 28, 23); // 2026-03-29 00:00 +01:00
      const midnight30 = Date.UTC(2026, 2, 29, 22); // 2026-03-30 00:00 +02:00
      await log.recordMany([
        usage(0, { time: midnight29 - 1 }),
        usage(0, { time: midnight29 }),
        usage(0, { time: midnight30 - 1 }),
        usage(0, { time: midnight30 }),
      ]);
      const timeline = await log.timeline({
        bucket: 'day',
        timeZone: 'Europe/Berlin',
        filter: { since: midnight28, until: midnight30 + DAY },
      });
      expect(timeline.points.map((p) => [p.label, p.count])).toEqual([
        ['2026-03-28T00:00:00+01:00', 1],
        ['2026-03-29T00:00:00+01:00', 2],
        ['2026-03-30T00:00:00+02:00', 1],
      ]);
      expect(timeline.points[1]!.end - timeline.points[1]!.start).toBe(23 * HOUR);
    });

    test('hour buckets in a half-hour zone and across the skipped hour', async () => {
      const { log } = await setup();
      await log.recordMany([usage(0, { time: Date.UTC(2026, 2, 29, 0, 35) }), usage(0, { time: Date.UTC(2026, 2, 29, 1, 5) })]);
      const kolkata = await log.timeline({
        timeZone: 'Asia/Kolkata',
        filter: { since: Date.UTC(2026, 2, 28, 23, 30), until: Date.UTC(2026, 2, 29, 2, 30) },
      });
      expect(kolkata.points.map((p) => [p.label, p.count])).toEqual([
        ['2026-03-29T05:00:00+05:30', 0],
        ['2026-03-29T06:00:00+05:30', 2],
        ['2026-03-29T07:00:00+05:30', 0],
      ]);
      const berlin = await log.timeline({
        timeZone: 'Europe/Berlin',
        filter: { since: Date.UTC(2026, 2, 29, 0), until: Date.UTC(2026, 2, 29, 2) },
      });
      expect(berlin.points.map((p) => [p.label, p.count])).toEqual([
        ['2026-03-29T01:00:00+01:00', 1],
        ['2026-03-29T03:00:00+02:00', 1],
      ]);
    });

    test('timeline rejects bad zones, buckets, metrics and ranges too large', async () => {
      const { log } = await setup();
      const bad: unknown[] = [
        { timeZone: 'Mars/Olympus' },
        { bucket: 'week' },
        { metrics: ['nope'] },
        { bucket: 'minute', filter: { since: NOW - 30 * DAY, until: NOW } },
      ];
      for (const input of bad) {
        const error = await log.timeline(input as never).catch((e: unknown) => e);
        expect(isEventLogError(error, 'VALIDATION_FAILED'), JSON.stringify(input)).toBe(true);
      }
    });

    test('top-N by dimension and field, by count or by metric, nulls excluded', async () => {
      const { log } = await setup();
      await fill(log, 60);
      await log.record({ type: 'auth.login', ip: '198.51.100.9' });
      const models = await log.top({ by: 'model_name', limit: 2 });
      expect(models).toHaveLength(2);
      expect(models[0]?.count).toBe(15);
      const byQuota = await log.top({ by: 'model_name', orderBy: 'quota' });
      expect(byQuota.map((t) => t.value)).toEqual(['model-3', 'model-2', 'model-1', 'model-0']);
      expect(byQuota[0]?.sums.quota).toBe(10 * (3 + 7 + 11 + 15 + 19 + 23 + 27 + 31 + 35 + 39 + 43 + 47 + 51 + 55 + 59));
      const channels = await log.top({ by: 'channel' });
      expect(channels.map((t) => t.value).sort()).toEqual([0, 1, 2]);
      const tenants = await log.top({ by: 'tenantId', filter: { since: NOW - 9 * MINUTE } });
      expect(tenants.reduce((n, t) => n + t.count, 0)).toBe(10);
      const logins = await log.top({ by: 'ip', filter: { type: 'auth.login' } });
      expect(logins).toEqual([{ value: '198.51.100.9', count: 1, sums: { quota: 0, prompt_tokens: 0, completion_tokens: 0, amount: 0 } }]);
      for (const input of [{ by: 'message' }, { by: 'model_name', limit: 0 }, { by: 'model_name', orderBy: 'nope' }]) {
        const error = await log.top(input).catch((e: unknown) => e);
        expect(isEventLogError(error, 'VALIDATION_FAILED')).toBe(true);
      }
    });
  });

  describe('live state', () => {
    test('latest returns the newest state event of a target', async () => {
      const { log } = await setup();
      await log.record({
        type: 'stream.state',
        time: NOW - 2000,
        target: { type: 'stream', id: '456' },
        data: { bitrate: '3000 kbps', resolution: '1280x720' },
      });
      await log.record({
        type: 'stream.state',
        time: NOW - 1000,
        target: { type: 'stream', id: '456' },
        data: { bitrate: '4500 kbps', resolution: '1920x1080' },
      });
      await log.record({
        type: 'stream.state',
        time: NOW,
        target: { type: 'stream', id: '999' },
        data: { bitrate: '1 kbps', resolution: '1x1' },
      });
      const latest = await log.latest({ type: 'stream.state', target: { type: 'stream', id: 456 } });
      expect(latest?.data).toEqual({ bitrate: '4500 kbps', resolution: '1920x1080' });
      expect(await log.latest({ type: 'stream.state', target: { id: 'missing' } })).toBeNull();
    });

    test('sessions open, list, close with duration, and close only once', async () => {
      const { log, clock } = await setup();
      const opened = await log.sessions.open({
        type: 'connection.open',
        sessionId: 'c-1',
        tenantId: 'tenant-1',
        actor: { id: 'line-123', type: 'line', name: 'testuser' },
        target: { type: 'stream', id: '456', name: 'CNN HD' },
        ip: '203.0.113.45',
        userAgent: 'VLC/3.0.11',
      });
      await log.sessions.open({ type: 'connection.open', sessionId: 'c-2', tenantId: 'tenant-2', target: { type: 'stream', id: '457' } });
      expect(opened.startedAt).toBe(NOW);
      clock.now = NOW + 3_600_000;
      const list = await log.sessions.list();
      expect(list.map((s) => s.sessionId)).toEqual(['c-1', 'c-2']);
      expect(list[0]).toMatchObject({ durationMs: 3_600_000, event: { actor: { name: 'testuser' }, userAgent: 'VLC/3.0.11' } });
      expect((await log.sessions.list({ filter: { targetId: '457' } })).map((s) => s.sessionId)).toEqual(['c-2']);
      const closed = await log.sessions.close('c-1', { type: 'connection.close' });
      expect(closed).toMatchObject({ sessionId: 'c-1', durationMs: 3_600_000 });
      expect(closed?.closed).toMatchObject({
        type: 'connection.close',
        sessionId: 'c-1',
        durationMs: 3_600_000,
        tenantId: 'tenant-1',
        ip: '203.0.113.45',
      });
      expect(await log.sessions.close('c-1', { type: 'connection.close' })).toBeNull();
      expect((await log.sessions.list()).map((s) => s.sessionId)).toEqual(['c-2']);
      expect(await log.count({ sessionId: 'c-1' })).toBe(2);
    });
  });
}
