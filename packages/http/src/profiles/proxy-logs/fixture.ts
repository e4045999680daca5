// The seeded log, handler and request helper that the proxy profile's test files share.
import { type Handler, type ProxyLogsOptions, proxyLogs, proxyLogsPreset, proxyRequestEvent, proxyUsers } from '@eventlog/http';
import { afterEach, beforeEach } from 'vitest';
import { createTestHandler, createTestLog, send } from '../../testing/profile-test-kit.js';

// The seed's example row is at 2026-03-25 14:32:10.
export const NOW = Date.UTC(2026, 2, 25, 14, 32, 10);
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const SECRET = 'a test secret that is at least 32 bytes long';
export const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';

export let now = NOW;
/** Moves the injected clock. */
export function setNow(ms: number): void {
  now = ms;
}
export const makeLog = () => createTestLog({ presets: [proxyLogsPreset], clock: () => now });
export let log: ReturnType<typeof makeLog>;
export let handler: Handler;

export const users = proxyUsers([
  { username: 'admin', password: 'admin-password' },
  { username: 'noc', password: 'viewer-password', role: 'viewer' },
]);

export function makeHandler(extra: Partial<ProxyLogsOptions> = {}): Handler {
  return createTestHandler(log, [proxyLogs({ authenticate: users, jwtSecret: SECRET, clock: () => now, ...extra })]);
}

// [minutes ago, client, method, destination, status, bytes, user agent, outcome]
export const ROWS: [number, string, string, string, number | string, number, string | null, string | null][] = [
  [0, '192.168.1.10', 'CONNECT', 'example.com:443', '200 Connection established', 4096, CHROME, null],
  [5, '192.168.1.11', 'GET', 'http://downloads.example.org/files/setup.zip', 200, 10_000, 'curl/8.5.0', null],
  [10, '192.168.1.12', 'GET', 'http://198.51.100.7/payload.exe', 403, 0, 'python-requests/2.31.0', null],
  [20, '192.168.1.12', 'CONNECT', '203.0.113.5:443', '403 Forbidden', 0, null, 'DENIED'],
  [60, '192.168.1.10', 'CONNECT', 'tracker.example.net:443', '200 Connection established', 0, CHROME, 'BLOCKED'],
  [
    120,
    '192.168.1.13',
    'GET',
    'http://updates.example.com/kb/patch.cab',
    200,
    50_000,
    'Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.50',
    null,
  ],
  [180, '2001:db8:85a3::8a2e:370:7334', 'GET', 'http://example.com/index.html', 200, 2048, CHROME, null],
  [
    15 * 60,
    '192.168.1.11',
    'CONNECT',
    'example.com:443',
    200,
    1024,
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    null,
  ],
  [20 * 60, '192.168.1.14', 'GET', 'http://10.0.0.1/admin', 403, 512, CHROME, 'ALLOWED'],
  [40 * 24 * 60, '192.168.1.10', 'GET', 'http://old.example.com/a.pdf', 200, 100, CHROME, null],
  [35 * 24 * 60, '192.168.1.13', 'GET', 'http://old.example.com/b.PDF', 200, 300, 'Microsoft-Delivery-Optimization/10.0', null],
];

/** Registers the hooks that give each test a fresh seeded log and handler. */
export function useProxyFixture(): void {
  beforeEach(async () => {
    now = NOW;
    log = makeLog();
    handler = makeHandler();
    for (const [ago, clientIp, method, destination, status, bytes, userAgent, outcome] of ROWS) {
      await log.record(
        proxyRequestEvent({ time: NOW - ago * MIN, clientIp, method, destination, status, bytes, userAgent, outcome, durationMs: 12 }),
      );
    }
  });
  afterEach(async () => {
    await log.close();
  });
}

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
export const ADMIN = basic('admin', 'admin-password');
export const VIEWER = basic('noc', 'viewer-password');

export async function call(
  path: string,
  init: { method?: string; auth?: string | null; body?: unknown; headers?: Record<string, string> } = {},
  h = handler,
) {
  const headers = new Headers(init.headers);
  const auth = init.auth === undefined ? ADMIN : init.auth;
  if (auth !== null) headers.set('Authorization', auth);
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const response = await send(h, `http://proxy.test${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(body === undefined ? {} : { body }),
  });
  return { ...response, body: response.text ? JSON.parse(response.text) : null };
}
