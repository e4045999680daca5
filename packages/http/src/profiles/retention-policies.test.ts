import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog } from '@eventlog/core';
import { mediaCpPreset, mediaCpRetentionPolicy, proxyLogsPreset, proxyRetentionPolicy } from '@eventlog/http';
import { describe, expect, it } from 'vitest';

const NOW = Date.UTC(2026, 2, 25, 12);
const DAY = 86_400_000;

describe("the seeds' retention behaviours as policies", () => {
  it('MediaCP keeps its stream events 30 days; the proxy deletes requests after its clear-old days and keeps its audit log', async () => {
    const log = createEventLog({
      store: createSqliteStore(),
      presets: [mediaCpPreset, proxyLogsPreset],
      clock: () => NOW,
      retention: { policies: [mediaCpRetentionPolicy, proxyRetentionPolicy(14)], pauseMs: 0 },
    });
    const dj = (days: number) => ({
      type: 'mediacp.dj.connect',
      time: NOW - days * DAY,
      actor: { type: 'dj', id: 'dj-1' },
      target: { type: 'service', id: '1' },
      tenantId: '40',
      data: {},
    });
    const request = (days: number) => ({
      type: 'proxy.request',
      time: NOW - days * DAY,
      data: { method: 'GET', url: 'http://example.com/', status: 200 },
    });
    await log.recordMany([dj(31), dj(29), request(15), request(13), { type: 'proxy.audit', time: NOW - 100 * DAY, data: {} }]);
    const maintenance = log.startMaintenance({ runOnStart: false });
    expect(await maintenance.run()).toBe(2);
    await maintenance.stop();
    expect(
      (await log.query({ sort: { field: 'time', direction: 'asc' } })).items.map((e) => [e.type, Math.round((NOW - e.time) / DAY)]),
    ).toEqual([
      ['proxy.audit', 100],
      ['mediacp.dj.connect', 29],
      ['proxy.request', 13],
    ]);
    expect((await log.jobs.list()).map((j) => [j.name, j.processed])).toEqual([
      ['proxy-requests', 1],
      ['mediacp-stream-events', 1],
    ]);
    await log.close();
  });
});
