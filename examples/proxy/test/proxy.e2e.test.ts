import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countEvents, type StartedExample, scratchDirectory, startExample, stopWithBufferedEvents } from '@eventlog/example-shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const directory = fileURLToPath(new URL('..', import.meta.url));
const scratch = scratchDirectory('proxy');
const basic = { Authorization: `Basic ${Buffer.from('admin:demo-password').toString('base64')}` };
const SQL_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

let example: StartedExample;
beforeAll(async () => {
  example = await startExample({ directory, env: { EVENTLOG_DB: join(scratch.path, 'proxy.db') } });
});
afterAll(async () => {
  await example?.stop('SIGKILL');
  scratch.remove();
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(example.url + path, { ...init, headers: { ...basic, ...(init.headers as Record<string, string>) } });
  return { status: response.status, body: await response.json() };
}

describe('examples/proxy', () => {
  it('answers the seed document: logs with sort, stats, timeline', async () => {
    const logs = await call('/api/logs?limit=100&offset=0&sort=timestamp&order=desc');
    expect(logs.status).toBe(200);
    expect(logs.body).toMatchObject({ status: 'success', limit: 100, offset: 0, total: expect.any(Number) });
    expect(logs.body.data).toHaveLength(100);
    expect(logs.body.data[0]).toEqual({
      id: expect.any(Number),
      timestamp: expect.stringMatching(SQL_TIME),
      client_ip: expect.any(String),
      method: expect.any(String),
      destination: expect.any(String),
      status: expect.any(String),
      bytes: expect.any(Number),
    });
    const byBytes = await call('/api/logs?limit=5&sort=bytes&order=desc');
    const bytes = byBytes.body.data.map((row: { bytes: number }) => row.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => b - a));

    const stats = await call('/api/logs/stats');
    expect(stats.body).toMatchObject({
      status: 'success',
      data: {
        total_count: expect.any(Number),
        blocked_count: expect.any(Number),
        ip_blocks_count: expect.any(Number),
        last_import: expect.stringMatching(SQL_TIME),
      },
    });
    expect(stats.body.data.blocked_count).toBeGreaterThan(0);
    expect(stats.body.data.ip_blocks_count).toBeGreaterThan(0);

    const timeline = await call('/api/logs/timeline?hours=24');
    expect(timeline.body.data.length).toBeGreaterThanOrEqual(24);
    expect(timeline.body.data[0]).toEqual({
      time: expect.stringMatching(SQL_TIME),
      total: expect.any(Number),
      blocked: expect.any(Number),
    });
    expect(timeline.body.data.filter((p: { total: number }) => p.total > 0).length).toBeGreaterThanOrEqual(23);
  });

  it('serves the analytics, the audit log, JWT login, and its own traffic through requestLogger', async () => {
    for (const path of [
      '/api/dashboard/summary',
      '/api/traffic/statistics',
      '/api/clients/statistics',
      '/api/domains/statistics',
      '/api/analytics/top-domains',
      '/api/analytics/user-agents',
      '/api/analytics/file-extensions',
      '/api/analytics/shadow-it',
      '/api/security/score',
      '/api/waf/stats',
      '/api/waf/categories',
    ]) {
      const answer = await call(path);
      expect(answer.status, path).toBe(200);
      expect(answer.body.status, path).toBe('success');
    }
    const summary = await call('/api/dashboard/summary');
    expect(summary.body.data.today_requests).toBeGreaterThan(0);
    expect(summary.body.data.recent_blocks.length).toBeGreaterThan(0);
    const clients = await call('/api/clients/statistics?limit=50');
    expect(clients.body.data.some((c: { client_ip: string; blocked: number }) => c.client_ip === '203.0.113.66')).toBe(true);

    const blocked = await call('/admin/blocklist', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"domain":"casino.example"}',
    });
    expect(blocked.status).toBe(201);
    const auditLog = await call('/api/audit-log?limit=5&offset=0');
    expect(auditLog.body).toMatchObject({ status: 'success', total: expect.any(Number) });
    expect(auditLog.body.data[0]).toEqual({
      id: expect.any(Number),
      username: 'admin',
      action: 'add_blocklist',
      target: 'casino.example',
      details: 'Blocked casino.example',
      timestamp: expect.stringMatching(SQL_TIME),
    });

    const login = await fetch(`${example.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'demo-password' }),
    });
    const { access_token: token } = await login.json();
    expect(typeof token).toBe('string');
    const withJwt = await fetch(`${example.url}/api/logs?limit=1`, { headers: { Authorization: `Bearer ${token}` } });
    expect(withJwt.status).toBe(200);
    expect((await fetch(`${example.url}/api/logs`)).status).toBe(401);
    expect(await (await fetch(`${example.url}/api/logs`)).json()).toEqual({ status: 'error', detail: 'Not authenticated' });

    // The example's own requests become proxy log rows: find the ones this test just made.
    const mine = await call(`/api/logs?limit=50&search=${encodeURIComponent('/api/analytics/shadow-it')}`);
    expect(mine.body.data.length).toBeGreaterThan(0);
    expect(mine.body.data[0]).toMatchObject({ method: 'GET', status: '200 OK', client_ip: '127.0.0.1' });
  });

  it('clears old logs per the retention setting and records it in the audit log', async () => {
    const cleared = await call('/api/logs/clear-old', { method: 'POST' });
    expect(cleared.body).toMatchObject({ status: 'success', message: 'Cleared old logs', deleted: expect.any(Number) });
    const auditLog = await call('/api/audit-log?limit=1');
    expect(auditLog.body.data[0]).toMatchObject({ action: 'clear_old_logs', username: 'admin' });
  });

  it('flushes every buffered request event on SIGTERM and exits 0', async () => {
    const file = join(scratch.path, 'shutdown.db');
    const agent = 'eventlog-e2e-flush/1.0';
    const requests = 25;
    const result = await stopWithBufferedEvents(directory, file, async (running) => {
      for (let i = 0; i < requests; i++)
        await (await fetch(`${running.url}/api/logs/stats`, { headers: { ...basic, 'User-Agent': agent } })).text();
    });
    expect(result.code, result.output).toBe(0);
    expect(result.buffered).toBeGreaterThanOrEqual(requests);
    expect(await countEvents(file, { type: 'proxy.request', userAgent: agent })).toBe(requests);
    expect(result.after).toBe(result.before + Number(/\((\d+) written since start\)/.exec(result.output)?.[1]));
  });
});
