import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { listen } from '../../testing/profile-test-kit.js';

import { ADMIN, basic, CHROME, call, HOUR, handler, makeHandler, NOW, setNow, useProxyFixture, VIEWER } from './fixture.js';

useProxyFixture();

const TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const itemShape = {
  id: expect.any(Number),
  timestamp: expect.stringMatching(TIME),
  client_ip: expect.any(String),
  method: expect.any(String),
  destination: expect.any(String),
  status: expect.any(String),
  bytes: expect.any(Number),
};

describe('proxyLogs: the seed examples', () => {
  it('GET /api/logs answers the documented page, compact, with the seed row first', async () => {
    const { status, body, text } = await call('/api/logs');
    expect(status).toBe(200);
    expect(text).toBe(JSON.stringify(body));
    expect(body).toEqual({ status: 'success', data: expect.any(Array), total: 11, limit: 100, offset: 0 });
    for (const item of body.data) expect(item).toEqual(itemShape);
    expect(body.data[0]).toEqual({
      id: expect.any(Number),
      timestamp: '2026-03-25 14:32:10',
      client_ip: '192.168.1.10',
      method: 'CONNECT',
      destination: 'example.com:443',
      status: '200 Connection established',
      bytes: 4096,
    });
    expect(body.data.map((d: { timestamp: string }) => d.timestamp)).toEqual(
      [...body.data.map((d: { timestamp: string }) => d.timestamp)].sort().reverse(),
    );
  });

  it('pages with limit/offset and sorts by every documented column, falling back to timestamp', async () => {
    const page = await call('/api/logs?limit=3&offset=4');
    expect(page.body).toMatchObject({ total: 11, limit: 3, offset: 4 });
    const all = (await call('/api/logs')).body.data;
    expect(page.body.data).toEqual(all.slice(4, 7));
    const bytesAsc = (await call('/api/logs?sort=bytes&order=asc')).body.data.map((d: { bytes: number }) => d.bytes);
    expect(bytesAsc).toEqual([...bytesAsc].sort((a, b) => a - b));
    const bytesDesc = (await call('/api/logs?sort=bytes&order=whatever')).body.data.map((d: { bytes: number }) => d.bytes);
    expect(bytesDesc).toEqual([...bytesAsc].reverse());
    expect((await call('/api/logs?sort=bytes&order=ASC')).body.data.map((d: { bytes: number }) => d.bytes)).toEqual(bytesAsc);
    for (const [sort, key] of [
      ['source_ip', 'client_ip'],
      ['destination', 'destination'],
      ['method', 'method'],
    ] as const) {
      const values = (await call(`/api/logs?sort=${sort}&order=asc`)).body.data.map((d: Record<string, string>) => d[key]);
      expect(values, sort).toEqual([...values].sort());
    }
    const statuses = (await call('/api/logs?sort=status&order=desc')).body.data.map((d: { status: string }) =>
      Number.parseInt(d.status, 10),
    );
    expect(statuses).toEqual([...statuses].sort((a, b) => b - a));
    for (const unknown of ['nonsense', 'id;DROP TABLE events', 'time', '__proto__', 'constructor']) {
      expect((await call(`/api/logs?sort=${encodeURIComponent(unknown)}`)).body.data, unknown).toEqual(all);
    }
    expect((await call('/api/logs?sort=a&sort=b')).body.data).toEqual(all);
  });

  it('GET /api/logs?search= searches destinations, methods and statuses, and client IPs exactly', async () => {
    const byHost = await call('/api/logs?search=example.com');
    expect(byHost.body.total).toBe(6);
    expect((await call('/api/logs?search=CONNECT')).body.total).toBe(4);
    expect((await call('/api/logs?search=forbidden')).body.total).toBe(1);
    const byIp = await call('/api/logs?search=192.168.1.12');
    expect(byIp.body.total).toBe(2);
    expect(byIp.body.data.every((d: { client_ip: string }) => d.client_ip === '192.168.1.12')).toBe(true);
  });

  it('GET /api/logs/stats counts blocked entries (403 or DENIED/BLOCKED) and those aimed at raw IPs', async () => {
    const { status, body } = await call('/api/logs/stats');
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'success',
      data: { total_count: 11, blocked_count: 4, ip_blocks_count: 3, last_import: '2026-03-25 14:32:10' },
    });
  });

  it('GET /api/logs/timeline gives hourly totals and blocks over 1..720 hours', async () => {
    const { body } = await call('/api/logs/timeline');
    expect(body.status).toBe('success');
    expect(body.data).toHaveLength(24);
    for (const point of body.data)
      expect(point).toEqual({
        time: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:00:00$/),
        total: expect.any(Number),
        blocked: expect.any(Number),
      });
    expect(body.data[0].time).toBe('2026-03-24 15:00:00');
    expect(body.data.at(-1)).toEqual({ time: '2026-03-25 14:00:00', total: 4, blocked: 2 });
    expect(body.data.find((p: { time: string }) => p.time === '2026-03-25 13:00:00')).toEqual({
      time: '2026-03-25 13:00:00',
      total: 1,
      blocked: 1,
    });
    expect(body.data.find((p: { time: string }) => p.time === '2026-03-24 18:00:00')).toEqual({
      time: '2026-03-24 18:00:00',
      total: 1,
      blocked: 1,
    });
    expect(body.data.reduce((sum: number, p: { total: number }) => sum + p.total, 0)).toBe(9);
    expect((await call('/api/logs/timeline?hours=1')).body.data).toEqual([{ time: '2026-03-25 14:00:00', total: 4, blocked: 2 }]);
    expect((await call('/api/logs/timeline?hours=720')).body.data).toHaveLength(720);
  });

  it('follows the configured time zone for timestamps and hours', async () => {
    const zoned = makeHandler({ timeZone: 'Asia/Kolkata' });
    expect((await call('/api/logs?limit=1', {}, zoned)).body.data[0].timestamp).toBe('2026-03-25 20:02:10');
    const hours = (await call('/api/logs/timeline?hours=2', {}, zoned)).body.data;
    expect(hours.map((p: { time: string }) => p.time)).toEqual(['2026-03-25 19:00:00', '2026-03-25 20:00:00']);
  });

  it('POST /api/logs/clear-old deletes past the retention setting and writes an audit row', async () => {
    const { status, body } = await call('/api/logs/clear-old', { method: 'POST' });
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'success', message: 'Cleared old logs', deleted: 2, days: 30 });
    expect((await call('/api/logs/stats')).body.data.total_count).toBe(9);
    const day = await call('/api/logs/clear-old?days=1', { method: 'POST' });
    expect(day.body.deleted).toBe(0);
    const hour = await call('/api/logs/clear-old', { method: 'POST', body: { days: 1 } });
    expect(hour.body).toMatchObject({ deleted: 0, days: 1 });
    const setting = makeHandler({ retentionDays: () => 0.5 });
    expect((await call('/api/logs/clear-old', { method: 'POST' }, setting)).body.days).toBe(30);
    const short = makeHandler({ retentionDays: async () => 1 });
    expect((await call('/api/logs/clear-old', { method: 'POST', body: {} }, short)).body).toMatchObject({ deleted: 0, days: 1 });
    setNow(NOW + 2 * HOUR);
    expect((await call('/api/logs/clear-old?days=1', { method: 'POST' }, short)).body.deleted).toBe(0);
    setNow(NOW + 23 * HOUR);
    expect((await call('/api/logs/clear-old?days=1', { method: 'POST' }, short)).body.deleted).toBe(4);
    const audit = await call('/api/audit-log');
    expect(audit.body).toMatchObject({ status: 'success', total: 7, limit: 100, offset: 0 });
    for (const row of audit.body.data) {
      expect(row).toEqual({
        id: expect.any(Number),
        username: 'admin',
        action: 'clear_old_logs',
        target: 'proxy_logs',
        details: expect.any(String),
        timestamp: expect.stringMatching(TIME),
      });
    }
    expect(audit.body.data[0].details).toBe('Cleared proxy logs older than 1 days (4 entries)');
  });

  it('POST /api/logs/clear deletes every entry, keeps the audit log, and records who did it', async () => {
    const { status, body } = await call('/api/logs/clear', { method: 'POST', body: {} });
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'success', message: 'All logs cleared', deleted: 11 });
    expect((await call('/api/logs/stats')).body.data).toEqual({ total_count: 0, blocked_count: 0, ip_blocks_count: 0, last_import: null });
    expect((await call('/api/logs')).body).toEqual({ status: 'success', data: [], total: 0, limit: 100, offset: 0 });
    const audit = await call('/api/audit-log?limit=10&offset=0');
    expect(audit.body).toEqual({
      status: 'success',
      data: [
        {
          id: expect.any(Number),
          username: 'admin',
          action: 'clear_logs',
          target: 'proxy_logs',
          details: 'Cleared all proxy logs (11 entries)',
          timestamp: '2026-03-25 14:32:10',
        },
      ],
      total: 1,
      limit: 10,
      offset: 0,
    });
  });

  it('GET /api/dashboard/summary has the fields the dashboard reads', async () => {
    const { body } = await call('/api/dashboard/summary');
    expect(body).toEqual({
      status: 'success',
      data: { total_requests: 11, blocked_requests: 4, today_requests: 7, today_blocked: 3, recent_blocks: expect.any(Array) },
    });
    expect(body.data.recent_blocks).toEqual([
      { timestamp: '2026-03-25 14:22:10', source_ip: '192.168.1.12', destination: 'http://198.51.100.7/payload.exe', status: '403' },
      { timestamp: '2026-03-25 14:12:10', source_ip: '192.168.1.12', destination: '203.0.113.5:443', status: '403 Forbidden' },
      {
        timestamp: '2026-03-25 13:32:10',
        source_ip: '192.168.1.10',
        destination: 'tracker.example.net:443',
        status: '200 Connection established',
      },
      { timestamp: '2026-03-24 18:32:10', source_ip: '192.168.1.14', destination: 'http://10.0.0.1/admin', status: '403' },
    ]);
  });

  it('serves the analytics that derive from the logs', async () => {
    const traffic = (await call('/api/traffic/statistics')).body;
    expect(traffic).toEqual({
      status: 'success',
      data: {
        hours: 24,
        total_requests: 9,
        blocked_requests: 4,
        allowed_requests: 5,
        total_bytes: 4096 + 10_000 + 50_000 + 2048 + 1024 + 512,
        requests_last_minute: 1,
        methods: [
          { method: expect.any(String), count: expect.any(Number) },
          { method: expect.any(String), count: expect.any(Number) },
        ],
        status_codes: expect.arrayContaining([
          { status_code: 200, count: 6 },
          { status_code: 403, count: 3 },
        ]),
        hourly: expect.any(Array),
      },
    });
    expect(traffic.data.hourly).toHaveLength(24);
    expect(traffic.data.hourly.at(-1)).toEqual({ time: '2026-03-25 14:00:00', total: 4, blocked: 2, bytes: 14_096 });

    const clients = (await call('/api/clients/statistics')).body;
    expect(clients.status).toBe('success');
    expect(clients.data[0]).toEqual({ client_ip: expect.any(String), requests: 3, blocked: expect.any(Number), bytes: expect.any(Number) });
    const c12 = clients.data.find((c: { client_ip: string }) => c.client_ip === '192.168.1.12');
    expect(c12).toEqual({ client_ip: '192.168.1.12', requests: 2, blocked: 2, bytes: 0 });
    const c10 = clients.data.find((c: { client_ip: string }) => c.client_ip === '192.168.1.10');
    expect(c10).toEqual({ client_ip: '192.168.1.10', requests: 3, blocked: 1, bytes: 4196 });
    expect((await call('/api/clients/statistics?limit=2&hours=1')).body.data).toHaveLength(2);

    const domains = (await call('/api/domains/statistics?limit=3')).body;
    expect(domains.data[0]).toEqual({ domain: 'example.com', requests: 3, blocked: 0, bytes: 4096 + 2048 + 1024 });
    expect(domains.data).toHaveLength(3);
    const ipDomain = (await call('/api/domains/statistics?limit=100')).body.data.find(
      (d: { domain: string }) => d.domain === '198.51.100.7',
    );
    expect(ipDomain).toEqual({ domain: '198.51.100.7', requests: 1, blocked: 1, bytes: 0 });

    const top = (await call('/api/analytics/top-domains')).body;
    expect(top.data[0]).toEqual({ domain: 'example.com', count: 3 });
    for (const row of top.data) expect(row).toEqual({ domain: expect.any(String), count: expect.any(Number) });

    const agents = (await call('/api/analytics/user-agents')).body.data;
    expect(agents.total_requests).toBe(11);
    const kinds = Object.fromEntries(agents.service_types.map((s: { service_type: string; count: number }) => [s.service_type, s.count]));
    expect(kinds).toEqual({
      'Web Browser': 5,
      'Command-Line Tool': 1,
      'Script / Library': 1,
      'OS / Software Update': 2,
      'Bot / Crawler': 1,
      Unknown: 1,
    });
    for (const s of agents.service_types)
      expect(s).toEqual({ service_type: expect.any(String), count: expect.any(Number), percentage: expect.any(Number) });
    expect(agents.user_agents[0]).toEqual({ user_agent: CHROME, service_type: 'Web Browser', count: 5 });

    const extensions = (await call('/api/analytics/file-extensions')).body.data;
    expect(extensions).toEqual(
      expect.arrayContaining([
        { extension: 'pdf', count: 2, bytes: 400, percentage: 18.18 },
        { extension: 'exe', count: 1, bytes: 0, percentage: 9.09 },
        { extension: 'zip', count: 1, bytes: 10_000, percentage: 9.09 },
      ]),
    );
    expect(
      (await call('/api/analytics/file-extensions?hours=24')).body.data.some((e: { extension: string }) => e.extension === 'pdf'),
    ).toBe(false);
  });

  it('masks client IPs in GDPR mode, in lists, recent blocks and client statistics', async () => {
    const gdpr = makeHandler({ gdpr: () => true });
    const list = (await call('/api/logs', {}, gdpr)).body.data;
    expect(list[0].client_ip).toBe('192.168.1.0');
    expect(list.find((d: { client_ip: string }) => d.client_ip.startsWith('2001'))?.client_ip).toBe('2001:db8:85a3::');
    expect(list.every((d: { client_ip: string }) => /\.0$|::$/.test(d.client_ip))).toBe(true);
    const recent = (await call('/api/dashboard/summary', {}, gdpr)).body.data.recent_blocks;
    expect(recent.every((r: { source_ip: string }) => r.source_ip === '192.168.1.0')).toBe(true);
    const clients = (await call('/api/clients/statistics?limit=100', {}, gdpr)).body.data;
    expect(clients.find((c: { client_ip: string }) => c.client_ip === '192.168.1.0')).toEqual({
      client_ip: '192.168.1.0',
      requests: 10,
      blocked: 4,
      bytes: 66_032,
    });
    // An address search would reveal stored addresses, so in GDPR mode it is only a text search.
    expect((await call('/api/logs?search=192.168.1.12', {}, gdpr)).body.total).toBe(0);
  });

  it('answers settings endpoints through host hooks, else a clear 404', async () => {
    for (const path of ['/api/security/score', '/api/analytics/shadow-it', '/api/waf/stats', '/api/waf/categories']) {
      const { status, body } = await call(path);
      expect(status, path).toBe(404);
      expect(body).toEqual({ status: 'error', detail: expect.stringContaining('not available') });
    }
    const hooked = makeHandler({
      hooks: {
        securityScore: ({ user }) => ({ score: 85, max_score: 100, recommendations: [`Hello ${user.username}: enable HTTPS filtering.`] }),
      },
    });
    expect((await call('/api/security/score', {}, hooked)).body).toEqual({
      status: 'success',
      data: { score: 85, max_score: 100, recommendations: ['Hello admin: enable HTTPS filtering.'] },
    });
  });

  it('answers over a real socket with Basic auth and with a JWT from /api/auth/login', async () => {
    const { base, close } = await listen(handler);
    try {
      const viaBasic = await fetch(`${base}/api/logs?limit=1`, { headers: { Authorization: ADMIN } });
      expect(viaBasic.status).toBe(200);
      const page = await viaBasic.json();
      expect(page).toMatchObject({ status: 'success', total: 11, limit: 1, offset: 0 });
      expect(page.data[0]).toEqual(itemShape);
      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'admin-password' }),
      });
      expect(login.status).toBe(200);
      const { access_token } = (await login.json()) as { access_token: string };
      expect(access_token.split('.')).toHaveLength(3);
      const viaJwt = await fetch(`${base}/api/logs/stats`, { headers: { Authorization: `Bearer ${access_token}` } });
      expect(await viaJwt.json()).toMatchObject({ status: 'success', data: { total_count: 11 } });
      const anonymous = await fetch(`${base}/api/logs`);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toEqual({ status: 'error', detail: 'Not authenticated' });
    } finally {
      await close();
    }
  });
});

describe('proxyLogs: authorization matrix', () => {
  const reads = [
    '/api/logs',
    '/api/logs/stats',
    '/api/logs/timeline',
    '/api/dashboard/summary',
    '/api/traffic/statistics',
    '/api/clients/statistics',
    '/api/domains/statistics',
    '/api/analytics/user-agents',
    '/api/analytics/file-extensions',
    '/api/analytics/top-domains',
  ];
  const adminOnly: [string, string][] = [
    ['POST', '/api/logs/clear'],
    ['POST', '/api/logs/clear-old'],
    ['GET', '/api/audit-log'],
  ];

  const login = async (username: string, password: string, h = handler) => {
    const response = await call('/api/auth/login', { method: 'POST', auth: null, body: { username, password } }, h);
    return response.body.access_token as string;
  };

  it('refuses anonymous callers, wrong passwords and bad tokens with 401 everywhere', async () => {
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('admin')
      .setIssuer('eventlog-proxy-logs')
      .setAudience('eventlog-proxy-logs')
      .setExpirationTime(Math.floor(NOW / 1000) + 3600)
      .sign(new TextEncoder().encode('another secret of at least thirty-two bytes'));
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"admin","role":"admin"}').toString('base64url')}.`;
    const valid = await login('admin', 'admin-password');
    const tampered = `${valid.slice(0, -4)}AAAA`;
    const bad = [
      null,
      basic('admin', 'wrong'),
      basic('ghost', 'admin-password'),
      'Basic !!!',
      'Bearer',
      'Bearer not-a-jwt',
      `Bearer ${forged}`,
      `Bearer ${unsigned}`,
      `Bearer ${tampered}`,
      'Digest abc',
    ];
    for (const [method, path] of [...reads.map((p) => ['GET', p] as [string, string]), ...adminOnly]) {
      for (const auth of bad) {
        const { status, body } = await call(path, { method, auth });
        expect(status, `${method} ${path} ${auth}`).toBe(401);
        expect(body).toEqual({ status: 'error', detail: expect.any(String) });
      }
    }
  });

  it('lets viewers read but not clear logs or read the audit log; admins do everything', async () => {
    const viewerToken = await login('noc', 'viewer-password');
    const adminToken = await login('admin', 'admin-password');
    for (const path of reads) {
      for (const auth of [VIEWER, `Bearer ${viewerToken}`, ADMIN, `Bearer ${adminToken}`]) {
        expect((await call(path, { auth })).status, `${path} ${auth}`).toBe(200);
      }
    }
    for (const [method, path] of adminOnly) {
      for (const auth of [VIEWER, `Bearer ${viewerToken}`]) {
        const { status, body } = await call(path, { method, auth });
        expect(status, `${path} as viewer`).toBe(403);
        expect(body).toEqual({ status: 'error', detail: 'Admin rights are required' });
      }
    }
    expect((await call('/api/logs/stats')).body.data.total_count).toBe(11);
    expect((await call('/api/audit-log', { auth: `Bearer ${adminToken}` })).status).toBe(200);
    expect((await call('/api/logs/clear-old', { method: 'POST', auth: `Bearer ${adminToken}` })).status).toBe(200);
  });

  it('expires tokens by the injected clock and rejects wrong login credentials', async () => {
    const short = makeHandler({ tokenTtlSeconds: 60 });
    const token = await login('admin', 'admin-password', short);
    expect((await call('/api/logs/stats', { auth: `Bearer ${token}` }, short)).status).toBe(200);
    setNow(NOW + 61_000);
    const expired = await call('/api/logs/stats', { auth: `Bearer ${token}` }, short);
    expect(expired).toMatchObject({ status: 401, body: { status: 'error', detail: 'Invalid or expired token' } });
    const wrong = await call('/api/auth/login', { method: 'POST', auth: null, body: { username: 'admin', password: 'nope' } });
    expect(wrong).toMatchObject({ status: 401, body: { status: 'error', detail: 'Invalid username or password' } });
    const form = await call('/api/auth/login', {
      method: 'POST',
      auth: null,
      body: 'username=noc&password=viewer-password',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(200);
    expect(form.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 86_400 });
  });
});
