// The requests the scale benchmark times: every endpoint of the table in issue 14 (the seed
// products' dashboards, lists, searches and totals) and the native reads, with the demo's
// credentials (examples/demo). Exports are left out: they are linear in what they return.

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const NEW_API_ADMIN = { Authorization: 'Bearer demo-admin-token', 'New-Api-User': '1' };
const NEW_API_USER = { Authorization: 'Bearer demo-user-token', 'New-Api-User': '2' };
const PROXY = { Authorization: basic('admin', 'demo-password') };
const NATIVE = { Authorization: 'Bearer demo-eventlog-token' };
const MEDIACP = { Authorization: 'Bearer demo-mediacp-admin' };
const UNIFI = { Authorization: 'Bearer demo-unifi-token', 'Content-Type': 'application/json' };
const XUI = '/cSbuFLhp/?api_key=8D3135D30437F86EAE2FA4A2A8345000';

/** One timed request. */
export interface ScaleEndpoint {
  /** Short name in the table. */
  name: string;
  method?: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Keyword search has its own target (p95 < 150 ms instead of 100 ms). */
  search?: boolean;
}

/** Every endpoint, in table order; `deepOffset` is the offset of the deep-page requests. */
export function scaleEndpoints(deepOffset: number): ScaleEndpoint[] {
  return [
    { name: 'proxy /api/dashboard/summary', path: '/api/dashboard/summary', headers: PROXY },
    { name: 'proxy /api/logs/stats', path: '/api/logs/stats', headers: PROXY },
    { name: 'proxy /api/logs/timeline?hours=720', path: '/api/logs/timeline?hours=720', headers: PROXY },
    { name: 'proxy /api/analytics/top-domains', path: '/api/analytics/top-domains', headers: PROXY },
    { name: 'proxy /api/clients/statistics', path: '/api/clients/statistics', headers: PROXY },
    { name: 'proxy /api/domains/statistics', path: '/api/domains/statistics', headers: PROXY },
    { name: 'proxy /api/traffic/statistics', path: '/api/traffic/statistics', headers: PROXY },
    { name: 'proxy /api/logs page 1 (total)', path: '/api/logs?limit=50', headers: PROXY },
    { name: `proxy /api/logs offset ${deepOffset}`, path: `/api/logs?limit=50&offset=${deepOffset}`, headers: PROXY },
    { name: 'new-api /api/log/search?keyword=error', path: '/api/log/search?keyword=error', headers: NEW_API_ADMIN, search: true },
    // A rarer term (a third of the error rows) and a rare one (the demo's 12 brute-force rows).
    { name: 'new-api /api/log/search?keyword=timeout', path: '/api/log/search?keyword=timeout', headers: NEW_API_ADMIN, search: true },
    {
      name: 'new-api /api/log/search?keyword=wrong password',
      path: '/api/log/search?keyword=wrong%20password',
      headers: NEW_API_ADMIN,
      search: true,
    },
    { name: 'new-api /api/log/stat (all time)', path: '/api/log/stat', headers: NEW_API_ADMIN },
    { name: 'new-api /api/log/self page 1', path: '/api/log/self?p=1&page_size=20', headers: NEW_API_USER },
    { name: 'new-api /api/log/ page 1 type=2', path: '/api/log/?p=1&page_size=20&type=2', headers: NEW_API_ADMIN },
    {
      name: `new-api /api/log/ page ${Math.floor(deepOffset / 20) + 1}`,
      path: `/api/log/?p=${Math.floor(deepOffset / 20) + 1}&page_size=20`,
      headers: NEW_API_ADMIN,
    },
    { name: 'mediacp EventLog category=dj', path: '/controller/EventLog?category=dj', headers: MEDIACP },
    {
      name: 'unifi system/logs door_openings',
      method: 'POST',
      path: '/api/v1/developer/system/logs',
      headers: UNIFI,
      body: '{"topic":"door_openings"}',
    },
    { name: 'xui activity_logs', path: `${XUI}&action=activity_logs`, headers: {} },
    { name: 'native /eventlog/events page', path: '/eventlog/events?limit=50', headers: NATIVE },
    { name: 'native /eventlog/stats', path: '/eventlog/stats', headers: NATIVE },
    { name: 'native /eventlog/top?by=ip', path: '/eventlog/top?by=ip', headers: NATIVE },
    { name: 'native /eventlog/timeline (day)', path: '/eventlog/timeline?bucket=day', headers: NATIVE },
  ];
}
