import type { EventLog, JobInfo, Principal } from '@eventlog/core';
import { bearerToken, createHandler, findBySecret, type Handler, native } from '@eventlog/http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestLog, ENVELOPES, expectRefusal, send } from '../../testing/profile-test-kit.js';

const T0 = Date.UTC(2026, 2, 25, 12, 0, 0);
const DAY = 86_400_000;
const tokens: { token: string; principal: Principal }[] = [
  { token: 'admin-token', principal: { role: 'admin' } },
  { token: 'alice-token', principal: { role: 'user', id: 'alice' } },
];

let log: EventLog;
let handler: Handler;
beforeEach(async () => {
  log = createTestLog({ clock: () => T0, retention: { maxAgeDays: 30, pauseMs: 0 } });
  handler = createHandler({
    log,
    profiles: [native({ authenticate: (request) => findBySecret(bearerToken(request) ?? '', tokens, (t) => t.token)?.principal ?? null })],
  });
  await log.recordMany(
    Array.from({ length: 12 }, (_, i) => ({ type: 'app.request', time: T0 - (i % 2 === 0 ? 40 : 1) * DAY, tenantId: 'alice' })),
  );
});
afterEach(() => log.close());

const call = (path: string, token = 'admin-token', init: RequestInit = {}) =>
  send(handler, `http://test${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });

describe('native retention jobs routes', () => {
  it('lists the job history, reads one job and cancels (admins only)', async () => {
    const dry = await log.jobs.runPolicy('default', { dryRun: true });
    const run = (await log.jobs.runPolicy('default')) as JobInfo;
    expect(run.processed).toBe(6);

    const list = await call('/eventlog/jobs');
    expect(list.status).toBe(200);
    expect((list.body as { data: JobInfo[] }).data.map((j) => [j.id, j.dryRun, j.processed, j.dryRunCount])).toEqual([
      [run.id, false, 6, null],
      [dry?.id, true, 0, 6],
    ]);
    const filtered = await call('/eventlog/jobs?status=succeeded&name=default&limit=1');
    expect((filtered.body as { data: JobInfo[] }).data.map((j) => j.id)).toEqual([run.id]);
    const one = await call(`/eventlog/jobs/${run.id}`);
    expect(one.body).toEqual({ data: run });
    const cancel = await call(`/eventlog/jobs/${run.id}/cancel`, 'admin-token', { method: 'POST' });
    expect(cancel.status).toBe(200);
    expect((cancel.body as { data: JobInfo }).data.status).toBe('succeeded');
  });

  it('refuses non-admins, unknown jobs and bad parameters in the native envelope', async () => {
    const refusals = await Promise.all([
      call('/eventlog/jobs', 'alice-token'),
      call('/eventlog/jobs/abc', 'alice-token'),
      call('/eventlog/jobs/abc/cancel', 'alice-token', { method: 'POST' }),
      call('/eventlog/jobs/no-such-job'),
      call('/eventlog/jobs/no-such-job/cancel', 'admin-token', { method: 'POST' }),
      call('/eventlog/jobs?status=sleeping'),
      call('/eventlog/jobs?limit=0'),
      call('/eventlog/jobs/%3Cscript%3E'),
    ]);
    expect(refusals.map((r) => r.status)).toEqual([403, 403, 403, 404, 404, 400, 400, 400]);
    for (const r of refusals) expectRefusal(r, ENVELOPES.native);
    expect(JSON.stringify(refusals[5]?.body)).toContain('status');
  });
});
