/**
 * The forward-proxy example as a module: the logs-and-analytics profile with credentials from the
 * environment, seeded proxy records and audit rows, live traffic, a small host route that writes
 * audit rows with `audit()`, and the banner. The server's own requests are recorded by
 * `requestLogger` and listed by the same API.
 */
import type { EventInput } from '@eventlog/core';
import { ascendingTimes, type ExampleModule, env, type Random, recordInChunks, shellQuote } from '@eventlog/example-shared';
import { audit } from '@eventlog/express';
import { PROXY_AUDIT_TYPE, proxyLogs, proxyLogsPreset, proxyRequestEvent, proxyUsers, safeEqual } from '@eventlog/http';
import express from 'express';

/** Demo credentials; each can be replaced through its environment variable. */
export function proxyCredentials() {
  return { user: env('PROXY_ADMIN_USER', 'admin'), password: env('PROXY_ADMIN_PASSWORD', 'demo-password') };
}

const CLIENTS = Array.from({ length: 24 }, (_, i) => `192.168.1.${10 + i * 2}`);
const BRUTE_FORCE_IP = '203.0.113.66';
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'curl/8.5.0',
  'python-requests/2.31.0',
  'Debian APT-HTTP/1.3 (2.6.1)',
  'Microsoft-CryptoAPI/10.0',
  'Dropbox-Desktop/196.4.6986',
  'Slack/4.38.125 (darwin)',
];

interface Destination {
  method: string;
  destination: string;
  status: string;
  weight: number;
  bytes: [number, number];
  outcome?: string;
}

const DESTINATIONS: Destination[] = [
  { method: 'CONNECT', destination: 'example.com:443', status: '200 Connection established', weight: 10, bytes: [2_000, 90_000] },
  { method: 'CONNECT', destination: 'github.com:443', status: '200 Connection established', weight: 8, bytes: [5_000, 400_000] },
  { method: 'CONNECT', destination: 'www.google.com:443', status: '200 Connection established', weight: 9, bytes: [1_000, 60_000] },
  { method: 'CONNECT', destination: 'api.openai.com:443', status: '200 Connection established', weight: 4, bytes: [3_000, 120_000] },
  { method: 'CONNECT', destination: 'registry.npmjs.org:443', status: '200 Connection established', weight: 5, bytes: [10_000, 2_000_000] },
  { method: 'CONNECT', destination: 'dropbox.com:443', status: '200 Connection established', weight: 3, bytes: [50_000, 9_000_000] },
  { method: 'CONNECT', destination: 'wetransfer.com:443', status: '200 Connection established', weight: 1, bytes: [100_000, 30_000_000] },
  {
    method: 'GET',
    destination: 'http://deb.debian.org/debian/dists/bookworm/Release',
    status: '200 OK',
    weight: 3,
    bytes: [150_000, 160_000],
  },
  {
    method: 'GET',
    destination: 'http://downloads.example.net/files/setup.exe',
    status: '200 OK',
    weight: 2,
    bytes: [5_000_000, 80_000_000],
  },
  { method: 'GET', destination: 'http://cdn.example.org/assets/app.js', status: '200 OK', weight: 4, bytes: [20_000, 300_000] },
  { method: 'GET', destination: 'http://docs.example.org/manual.pdf', status: '200 OK', weight: 2, bytes: [300_000, 4_000_000] },
  { method: 'GET', destination: 'http://cdn.example.org/assets/logo.png', status: '304 Not Modified', weight: 3, bytes: [0, 0] },
  { method: 'GET', destination: 'http://archive.example.com/backup.zip', status: '404 Not Found', weight: 1, bytes: [200, 600] },
  { method: 'CONNECT', destination: 'malware.test:443', status: 'TCP_DENIED/403', weight: 2, bytes: [0, 0], outcome: 'DENIED' },
  { method: 'CONNECT', destination: 'ads.tracker.example:443', status: '403 Forbidden', weight: 3, bytes: [0, 0] },
  { method: 'GET', destination: 'http://198.51.100.7/payload.exe', status: '403 Forbidden', weight: 1, bytes: [0, 0] },
  { method: 'CONNECT', destination: '203.0.113.200:8443', status: '403 Forbidden', weight: 1, bytes: [0, 0] },
  { method: 'CONNECT', destination: 'flaky.example.net:443', status: '502 Bad Gateway', weight: 1, bytes: [0, 300] },
];
const TOTAL_WEIGHT = DESTINATIONS.reduce((sum, d) => sum + d.weight, 0);

function pickDestination(random: Random): Destination {
  let roll = random.next() * TOTAL_WEIGHT;
  for (const d of DESTINATIONS) {
    roll -= d.weight;
    if (roll < 0) return d;
  }
  return DESTINATIONS[0]!;
}

function request(random: Random, time: number, clientIp = random.pick(CLIENTS)): EventInput {
  const d = pickDestination(random);
  return proxyRequestEvent({
    time,
    clientIp,
    method: d.method,
    destination: d.destination,
    status: d.status,
    bytes: random.int(d.bytes[0], d.bytes[1]),
    durationMs: random.int(3, 2500),
    userAgent: random.pick(AGENTS),
    ...(d.outcome ? { outcome: d.outcome } : {}),
  });
}

function auditRow(time: number, username: string, action: string, target: string, details: string): EventInput {
  return {
    type: PROXY_AUDIT_TYPE,
    time,
    category: 'audit',
    action,
    outcome: 'success',
    actor: { type: 'user', id: username, name: username },
    target: { type: 'setting', name: target },
    message: details,
    ip: '192.168.1.2',
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function* rows(random: Random, size: number, now: number): Generator<EventInput> {
  // Bulk traffic over the last fourteen days, denser in the last day.
  for (const time of ascendingTimes(size, () => now - (random.chance(0.5) ? random.int(MINUTE, DAY) : random.int(DAY, 14 * DAY)))) {
    yield request(random, time);
  }
  // Every hour of the last day has traffic, so the timeline has no holes.
  for (let t = now - DAY; t < now - MINUTE; t += random.int(3, 9) * MINUTE) yield request(random, t);
  // A client brute-forcing the admin login through the proxy: 401s from one address.
  for (let i = 0; i < 30; i++) {
    yield proxyRequestEvent({
      time: now - 45 * MINUTE + i * 30_000,
      clientIp: BRUTE_FORCE_IP,
      method: 'POST',
      destination: 'http://proxy.local:8000/api/auth/login',
      status: '401 Unauthorized',
      bytes: 48,
      durationMs: random.int(80, 300),
      userAgent: 'python-requests/2.31.0',
      outcome: 'DENIED',
    });
  }
  // Admin actions for the audit log.
  const actions: [string, string, string, string][] = [
    ['admin', 'update_settings', 'log_retention_days', 'Changed log_retention_days from 90 to 30'],
    ['admin', 'enable_gdpr', 'gdpr_mode', 'Enabled GDPR mode'],
    ['admin', 'add_blocklist', 'malware.test', 'Blocked malware.test (threat feed)'],
    ['noc', 'add_blocklist', 'ads.tracker.example', 'Blocked ads.tracker.example'],
    ['admin', 'toggle_waf_category', 'sql_injection', 'Enabled WAF category sql_injection'],
    ['admin', 'clear_old_logs', 'proxy_logs', 'Cleared proxy logs older than 30 days (0 entries)'],
    ['noc', 'update_settings', 'block_direct_ip', 'Enabled blocking of direct IP destinations'],
    ['admin', 'create_user', 'noc', 'Created viewer account noc'],
  ];
  for (const [i, [user, action, target, details]] of actions.entries())
    yield auditRow(now - (actions.length - i) * 7 * HOUR, user, action, target, details);
}

function decodeBasic(header: string | undefined): [string, string] {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  const text = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = text.indexOf(':');
  return colon < 0 ? ['', ''] : [text.slice(0, colon), text.slice(colon + 1)];
}

/** The forward-proxy example module. */
export const proxyExample: ExampleModule = {
  name: 'proxy',
  presets: [proxyLogsPreset],
  logRequests: true,
  profiles() {
    const { user, password } = proxyCredentials();
    return [
      proxyLogs({
        authenticate: proxyUsers([
          { username: user, password },
          { username: 'noc', password: env('PROXY_VIEWER_PASSWORD', 'demo-viewer'), role: 'viewer' },
        ]),
        ...(process.env.PROXY_JWT_SECRET ? { jwtSecret: process.env.PROXY_JWT_SECRET } : {}),
        retentionDays: 30,
        gdpr: process.env.PROXY_GDPR === '1',
        hooks: {
          securityScore: () => ({
            score: 85,
            max_score: 100,
            recommendations: ['Enable HTTPS filtering for full request inspection.'],
          }),
          wafStats: async ({ log }) => ({
            rules: 128,
            blocks: await log.count({ type: 'proxy.request', outcome: ['BLOCKED', 'DENIED'] }),
            entropy_threshold: 4.2,
          }),
          wafCategories: () => [
            { id: 'sql_injection', name: 'SQL injection', enabled: true },
            { id: 'xss', name: 'Cross-site scripting', enabled: true },
            { id: 'path_traversal', name: 'Path traversal', enabled: false },
          ],
          shadowIt: async ({ log }) => {
            const services = { 'dropbox.com': 'Dropbox', 'wetransfer.com': 'WeTransfer', 'api.openai.com': 'OpenAI' };
            const top = await log.top({
              by: 'host',
              filter: { type: 'proxy.request', dimensions: { host: Object.keys(services) } },
              limit: 10,
            });
            return top.map((t) => ({
              domain: t.value,
              service: services[t.value as keyof typeof services],
              requests: t.count,
              bytes: t.sums.bytes ?? 0,
            }));
          },
        },
      }),
    ];
  },
  setup(app) {
    // A host route of the proxy's own admin app: recording an audit row is one call.
    const { user, password } = proxyCredentials();
    app.post('/admin/blocklist', express.json(), async (req, res) => {
      const [name, secret] = decodeBasic(req.get('authorization'));
      if (!safeEqual(name, user) || !safeEqual(secret, password)) {
        res.status(401).json({ status: 'error', detail: 'Not authenticated' });
        return;
      }
      (req as express.Request & { user?: unknown }).user = { username: name };
      const domain = typeof req.body?.domain === 'string' ? req.body.domain.trim().toLowerCase() : '';
      if (!/^[a-z0-9.-]{1,253}$/.test(domain)) {
        res.status(400).json({ status: 'error', detail: 'Send {"domain": "example.com"}' });
        return;
      }
      await audit(req, { action: 'add_blocklist', target: { type: 'domain', name: domain }, details: `Blocked ${domain}` });
      res.status(201).json({ status: 'success', message: `Blocked ${domain}` });
    });
  },
  seed: ({ log, size, now, random }) => recordInChunks(log, rows(random, size, now)),
  async live({ log, random }) {
    const now = Date.now();
    await log.recordMany(Array.from({ length: random.int(1, 5) }, () => request(random, now)));
  },
  banner(base) {
    const { user, password } = proxyCredentials();
    const auth = `-u ${shellQuote(`${user}:${password}`)}`;
    return [
      `proxy admin API (/api/logs…, /api/audit-log, /api/dashboard…, /api/analytics…): Basic ${user} / ${password} (PROXY_ADMIN_USER, PROXY_ADMIN_PASSWORD), or a JWT:`,
      `  curl -X POST -H 'Content-Type: application/json' -d ${shellQuote(JSON.stringify({ username: user, password }))} ${base}/api/auth/login`,
      `  curl ${auth} ${shellQuote(`${base}/api/logs?limit=100&offset=0&sort=timestamp&order=desc`)}`,
      `  curl ${auth} ${base}/api/logs/stats`,
      `  curl ${auth} ${shellQuote(`${base}/api/logs/timeline?hours=24`)}`,
      `  curl ${auth} ${base}/api/dashboard/summary`,
      `  curl ${auth} ${base}/api/domains/statistics   # also /api/traffic/statistics, /api/clients/statistics, /api/analytics/{user-agents,file-extensions,top-domains,shadow-it}`,
      `  curl ${auth} ${base}/api/audit-log`,
      `  curl -X POST ${auth} -H 'Content-Type: application/json' -d '{"domain":"casino.example"}' ${base}/admin/blocklist   # a host route writing an audit row`,
      `  curl -X POST ${auth} ${base}/api/logs/clear-old   # and /api/logs/clear (deletes everything)`,
      '',
    ];
  },
};
