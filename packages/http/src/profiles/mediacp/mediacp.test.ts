import { createHandler, type Handler, mediaCp, mediaCpPreset, mediaCpTokens } from '@eventlog/http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestHandler, createTestLog, ENVELOPES, expectRefusal, listen, send } from '../../testing/profile-test-kit.js';

const NOW = Date.UTC(2026, 2, 25, 12, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;

const makeLog = () => createTestLog({ presets: [mediaCpPreset], clock: () => NOW });
let log: ReturnType<typeof makeLog>;
let handler: Handler;

// Services: 12 and 13 belong to customers 40 and 41 (reseller 7's customers), 30 to reseller 7
// itself, 20 to customer 50 (no reseller).
const SERVICES = [
  { id: '12', name: 'Radio One', tenant: '40', customer: 'Acme FM' },
  { id: '13', name: 'Jazz Two', tenant: '41', customer: 'Blue Notes' },
  { id: '30', name: 'Reseller Test', tenant: '7', customer: 'Big Reseller' },
  { id: '20', name: 'Other Radio', tenant: '50', customer: 'Elsewhere Ltd' },
];

const TOKENS = {
  admin: 'admin-token-0123456789',
  reseller: 'reseller-token-0123456789',
  customer40: 'customer40-token-0123456789',
  customer50: 'customer50-token-0123456789',
};

async function seed() {
  const kinds = [
    ['mediacp.service.start', { type: 'user', id: 'u1', name: 'admin' }, 'Service started', undefined],
    ['mediacp.dj.connect', { type: 'dj', id: 'dj-1', name: 'DJ Nova' }, 'DJ Nova connected', { takeover: true }],
    ['mediacp.dj.disconnect', { type: 'dj', id: 'dj-1', name: 'DJ Nova' }, 'DJ Nova disconnected', undefined],
    ['mediacp.autodj.on_air', { type: 'system', id: null, name: 'System' }, 'AutoDJ resumed control', undefined],
    ['mediacp.mount.connect', { type: 'system', id: null, name: 'System' }, 'Mount /live connected', { mount: '/live' }],
    ['mediacp.source.restart', { type: 'user', id: 'u2', name: 'owner' }, 'Source restarted', undefined],
    ['mediacp.system.suspend', { type: 'system', id: null, name: 'System' }, 'Suspended: disk limit', { reason: 'disk' }],
  ] as const;
  let n = 0;
  for (const service of SERVICES) {
    for (const [type, actor, message, data] of kinds) {
      n++;
      await log.record({
        type,
        time: NOW - n * 10 * MIN,
        actor,
        target: { type: 'service', id: service.id, name: service.name },
        tenantId: service.tenant,
        ip: actor.type === 'dj' ? '203.0.113.9' : null,
        message: `${message} on ${service.name}`,
        dimensions: { customer_name: service.customer },
        ...(data ? { data } : {}),
      });
    }
  }
  // Older than 30 days: outside a typical date range.
  await log.record({
    type: 'mediacp.service.stop',
    time: NOW - 40 * DAY,
    target: { type: 'service', id: '12', name: 'Radio One' },
    tenantId: '40',
  });
}

beforeEach(async () => {
  log = makeLog();
  handler = createTestHandler(log, [
    mediaCp({
      authenticate: mediaCpTokens([
        { token: TOKENS.admin, role: 'admin' },
        { token: TOKENS.reseller, role: 'reseller', id: '7', customerIds: ['40', '41'] },
        { token: TOKENS.customer40, role: 'customer', id: '40' },
        { token: TOKENS.customer50, role: 'customer', id: '50' },
      ]),
      clock: () => NOW,
    }),
  ]);
  await seed();
});
afterEach(async () => {
  await log.close();
});

async function call(path: string, token: string | null = TOKENS.admin, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set('Authorization', `Bearer ${token}`);
  return send(handler, `http://panel.test${path}`, { ...init, headers });
}

function expectLogShape(entry: Record<string, unknown>) {
  expect(entry).toEqual({
    id: expect.any(Number),
    service_id: expect.any(Number),
    service_name: expect.any(String),
    customer_id: expect.any(Number),
    customer_name: expect.any(String),
    category: expect.stringMatching(/^(service|mount|dj|source|autodj)$/),
    category_label: expect.stringMatching(/^(Service|Mount|DJ|Source|AutoDJ)$/),
    event_type: expect.any(String),
    event_label: expect.any(String),
    actor_type: expect.any(String),
    actor_id: expect.toSatisfy((v: unknown) => v === null || typeof v === 'string'),
    actor_name: expect.any(String),
    description: expect.any(String),
    ip_address: expect.toSatisfy((v: unknown) => v === null || typeof v === 'string'),
    metadata: expect.any(Object),
    created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
    created_at_formatted: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
    created_at_human: expect.any(String),
  });
}

describe('mediaCp: the seed examples', () => {
  it('GET /controller/EventLog answers { logs, total, page, totalPages } with formatted model attributes', async () => {
    const { status, body } = await call('/controller/EventLog');
    expect(status).toBe(200);
    expect(body).toMatchObject({ success: true, total: 29, page: 1, totalPages: 2, perPage: 25 });
    expect(Object.keys(body).sort()).toEqual(['logs', 'page', 'perPage', 'success', 'total', 'totalPages']);
    expect(body.logs).toHaveLength(25);
    for (const entry of body.logs) expectLogShape(entry);
    const first = body.logs[0];
    expect(first).toMatchObject({
      service_id: 12,
      service_name: 'Radio One',
      customer_id: 40,
      customer_name: 'Acme FM',
      event_type: 'service.start',
      event_label: 'Service Start',
      category: 'service',
      created_at: '2026-03-25T11:50:00.000000Z',
      created_at_formatted: '2026-03-25 11:50:00',
      created_at_human: '10 minutes ago',
    });
  });

  it('GET /controller/EventLog/{id} is scoped to one service', async () => {
    const { status, body } = await call('/controller/EventLog/13');
    expect(status).toBe(200);
    expect(body.total).toBe(7);
    expect(body.logs.every((l: { service_id: number }) => l.service_id === 13)).toBe(true);
    expect((await call('/controller/EventLog/13/')).body.total).toBe(7);
  });

  it('filters by category (All Events, Service, Mount, DJ, Source, AutoDJ)', async () => {
    const expected: Record<string, number> = {
      all: 29,
      'All Events': 29,
      Service: 9,
      service: 9,
      Mount: 4,
      DJ: 8,
      dj: 8,
      Source: 4,
      AutoDJ: 4,
      autodj: 4,
    };
    for (const [category, total] of Object.entries(expected)) {
      const { status, body } = await call(`/controller/EventLog?category=${encodeURIComponent(category)}`);
      expect(status, category).toBe(200);
      expect(body.total, category).toBe(total);
    }
    const dj = await call('/controller/EventLog/12?category=DJ');
    expect(dj.body.logs.map((l: { event_type: string }) => l.event_type).sort()).toEqual(['dj.connect', 'dj.disconnect']);
    expect(dj.body.logs.find((l: { event_type: string }) => l.event_type === 'dj.connect')).toMatchObject({
      actor_type: 'dj',
      actor_name: 'DJ Nova',
      ip_address: '203.0.113.9',
      metadata: { takeover: true },
    });
  });

  it('filters by event type, service id, date range and pagination', async () => {
    expect((await call('/controller/EventLog?event_type=dj.connect')).body.total).toBe(4);
    expect((await call('/controller/EventLog?event_type=dj.connect,dj.disconnect&service_id=20')).body.total).toBe(2);
    expect((await call('/controller/EventLog?service_id=12')).body.total).toBe(8);
    // The 40-day-old event is outside the last week.
    expect((await call('/controller/EventLog?service_id=12&date_from=2026-03-18&date_to=2026-03-25')).body.total).toBe(7);
    expect((await call('/controller/EventLog?date_from=2026-01-01&date_to=2026-01-31')).body.total).toBe(0);
    expect((await call('/controller/EventLog?date_from=2026-02-13&date_to=2026-02-13')).body.total).toBe(1);
    const since = Math.floor((NOW - 35 * MIN) / 1000);
    expect((await call(`/controller/EventLog?date_from=${since}`)).body.total).toBe(3);
    const page2 = await call('/controller/EventLog?page=2&per_page=10');
    expect(page2.body).toMatchObject({ page: 2, totalPages: 3, perPage: 10, total: 29 });
    expect(page2.body.logs).toHaveLength(10);
    const page1 = await call('/controller/EventLog?page=1&per_page=10');
    expect(page2.body.logs[0].created_at < page1.body.logs[9].created_at).toBe(true);
    expect((await call('/controller/EventLog?search=disk')).body.total).toBe(4);
  });

  it('exports the current filtered view as CSV, with service and customer columns in the global view', async () => {
    const global = await call('/controller/EventLog/export?category=DJ');
    expect(global.status).toBe(200);
    expect(global.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(global.headers.get('content-disposition')).toBe('attachment; filename="stream-events-2026-03-25.csv"');
    const lines = global.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'ID,Date,Category,Event,Event Type,Actor Type,Actor,Description,IP Address,Service ID,Service Name,Customer ID,Customer Name',
    );
    expect(lines).toHaveLength(9);
    expect(lines[1]).toMatch(
      /^\d+,2026-03-25 \d\d:\d\d:00,DJ,DJ Connect,dj.connect,dj,DJ Nova,DJ Nova connected on Radio One,203.0.113.9,12,Radio One,40,Acme FM$/,
    );
    const perService = await call('/controller/EventLog/12/export');
    expect(perService.headers.get('content-disposition')).toContain('stream-events-service-12-2026-03-25.csv');
    const serviceLines = perService.text.trimEnd().split('\r\n');
    expect(serviceLines[0]).toBe('ID,Date,Category,Event,Event Type,Actor Type,Actor,Description,IP Address');
    expect(serviceLines).toHaveLength(9);
    const viaFormat = await call('/controller/EventLog?category=DJ&format=csv');
    expect(viaFormat.text).toBe(global.text);
  });

  it('answers over a real socket', async () => {
    const { base, close } = await listen(handler);
    try {
      const response = await fetch(`${base}/controller/EventLog/12?category=DJ&page=1&per_page=1`, {
        headers: { Authorization: `Bearer ${TOKENS.customer40}` },
      });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body).toMatchObject({ success: true, total: 2, page: 1, totalPages: 2, perPage: 1 });
      expectLogShape(body.logs[0]);
      const csv = await fetch(`${base}/controller/EventLog/export`, {
        headers: { Authorization: `Bearer ${TOKENS.customer40}` },
      });
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect((await csv.text()).trimEnd().split('\r\n')).toHaveLength(9);
      const anonymous = await fetch(`${base}/controller/EventLog`);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toEqual({ success: false, message: expect.any(String) });
    } finally {
      await close();
    }
  });
});

describe('mediaCp: authorization matrix', () => {
  const visible: Record<keyof typeof TOKENS, string[]> = {
    admin: ['12', '13', '20', '30'],
    reseller: ['12', '13', '30'],
    customer40: ['12'],
    customer50: ['20'],
  };

  it('refuses anonymous and wrong tokens with 401 in the envelope', async () => {
    for (const path of [
      '/controller/EventLog',
      '/controller/EventLog/12',
      '/controller/EventLog/export',
      '/controller/EventLog/12/export',
    ]) {
      for (const token of [null, 'wrong-token', '']) {
        const { status, body, headers } = await call(path, token);
        expect(status, `${path} ${token}`).toBe(401);
        expect(body).toEqual({ success: false, message: expect.any(String) });
        expect(headers.get('www-authenticate')).toContain('Bearer');
      }
    }
    const basic = await handler(new Request('http://panel.test/controller/EventLog', { headers: { Authorization: 'Basic YTpi' } }));
    expect(basic.status).toBe(401);
  });

  it('lets each role read exactly its services, in lists, per-service views and exports', async () => {
    for (const [role, services] of Object.entries(visible) as [keyof typeof TOKENS, string[]][]) {
      const token = TOKENS[role];
      const list = await call('/controller/EventLog?per_page=100', token);
      expect(list.status, role).toBe(200);
      const seen = [...new Set(list.body.logs.map((l: { service_id: number }) => String(l.service_id)))].sort();
      expect(seen, role).toEqual([...services].sort());
      const csv = await call('/controller/EventLog/export', token);
      const csvServices = new Set(
        csv.text
          .trimEnd()
          .split('\r\n')
          .slice(1)
          .map((line) => line.split(',')[9]),
      );
      expect([...csvServices].sort(), role).toEqual([...services].sort());
      for (const service of SERVICES) {
        const one = await call(`/controller/EventLog/${service.id}`, token);
        expect(one.status).toBe(200);
        expect(one.body.total, `${role} reading ${service.id}`).toBe(services.includes(service.id) ? (service.id === '12' ? 8 : 7) : 0);
        const oneCsv = await call(`/controller/EventLog/${service.id}/export`, token);
        expect(oneCsv.text.trimEnd().split('\r\n').length - 1, `${role} exporting ${service.id}`).toBe(one.body.total);
        // Asking for another tenant's service through the global filter narrows to nothing.
        const filtered = await call(`/controller/EventLog?service_id=${service.id}`, token);
        expect(filtered.body.total).toBe(one.body.total);
      }
    }
  });

  it('masks DJ source addresses when asked to (GDPR mode)', async () => {
    const masked = createHandler({
      log,
      profiles: [mediaCp({ authenticate: mediaCpTokens([{ token: TOKENS.admin, role: 'admin' }]), maskIp: true })],
    });
    const headers = { Authorization: `Bearer ${TOKENS.admin}` };
    const list = await (await masked(new Request('http://panel.test/controller/EventLog?category=dj', { headers }))).json();
    expect(list.logs.map((l: { ip_address: string }) => l.ip_address)).toEqual(Array(8).fill('203.0.113.0'));
    const csv = await (await masked(new Request('http://panel.test/controller/EventLog/export?category=dj', { headers }))).text();
    expect(csv).not.toContain('203.0.113.9');
    expect(csv).toContain('203.0.113.0');
  });

  it('answers 404 for a service the serviceAccess hook refuses', async () => {
    const guarded = createHandler({
      log,
      profiles: [
        mediaCp({
          authenticate: mediaCpTokens([{ token: TOKENS.customer40, role: 'customer', id: '40' }]),
          serviceAccess: (user, id) => user.role !== 'customer' || SERVICES.some((s) => s.id === id && s.tenant === user.id),
        }),
      ],
    });
    const denied = await guarded(
      new Request('http://panel.test/controller/EventLog/20', { headers: { Authorization: `Bearer ${TOKENS.customer40}` } }),
    );
    expect(denied.status).toBe(404);
    expect(await denied.json()).toEqual({ success: false, message: 'Service 20 was not found.' });
    const own = await guarded(
      new Request('http://panel.test/controller/EventLog/12', { headers: { Authorization: `Bearer ${TOKENS.customer40}` } }),
    );
    expect(own.status).toBe(200);
  });
});

describe('mediaCp: bad input', () => {
  const table: [string, string][] = [
    ['/controller/EventLog?page=0', 'page'],
    ['/controller/EventLog?page=-1', 'page'],
    ['/controller/EventLog?page=abc', 'page'],
    ['/controller/EventLog?page=99999999999999999999', 'page'],
    ['/controller/EventLog?page=1.5', 'page'],
    ['/controller/EventLog?page=50000', 'page'],
    ['/controller/EventLog?per_page=0', 'per_page'],
    ['/controller/EventLog?per_page=101', 'per_page'],
    ['/controller/EventLog?per_page=1e3', 'per_page'],
    ['/controller/EventLog?category=Concerts', 'category'],
    ['/controller/EventLog?category=dj%27%20OR%201=1--', 'category'],
    ['/controller/EventLog?event_type=dj.*', 'event_type'],
    ['/controller/EventLog?event_type=%25', 'event_type'],
    ['/controller/EventLog?service_id=1%27%20OR%20%271%27=%271', 'service_id'],
    ['/controller/EventLog?service_id=%25', 'service_id'],
    ['/controller/EventLog?service_id=a&service_id=b', 'service_id'],
    ['/controller/EventLog?date_from=yesterday', 'date_from'],
    ['/controller/EventLog?date_from=2026-02-30', 'date_from'],
    ['/controller/EventLog?date_from=-5', 'date_from'],
    ['/controller/EventLog?date_from=999999999999', 'date_from'],
    ['/controller/EventLog?date_from=2026-03-25&date_to=2026-03-01', 'date_from'],
    ['/controller/EventLog?date_to=2026-13-01', 'date_to'],
    ['/controller/EventLog?format=xml', 'format'],
    [`/controller/EventLog?search=${'x'.repeat(201)}`, 'search'],
    ['/controller/EventLog/12?page=-3', 'page'],
    ['/controller/EventLog/12?service_id=13', 'service_id'],
    ['/controller/EventLog/1%27%3B%20DROP%20TABLE%20events%3B--', 'id'],
    [`/controller/EventLog/${'9'.repeat(65)}`, 'id'],
    ['/controller/EventLog/12/export?category=nope', 'category'],
    ['/controller/EventLog/export?date_from=tomorrow', 'date_from'],
  ];

  it.each(table)('%s → 4xx naming %s', async (path, parameter) => {
    const response = await call(path);
    expectRefusal(response, ENVELOPES.mediaCp, path);
    const { status, body } = response;
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(body).toMatchObject({ success: false, message: expect.stringContaining(parameter) });
    expect(Object.keys(body.errors ?? {}).every((key) => typeof key === 'string')).toBe(true);
  });

  it('treats SQL and wildcard characters in search as plain text', async () => {
    // Only the AutoDJ events hold a literal "_" (in their type, mediacp.autodj.on_air).
    const expected: [string, number][] = [
      ["' OR 1=1 --", 0],
      ['%', 0],
      ['_', 4],
      ['\\', 0],
      ['%25%', 0],
      ['on_air', 4],
      ['on%air', 0],
    ];
    for (const [term, total] of expected) {
      const { status, body } = await call(`/controller/EventLog?search=${encodeURIComponent(term)}`);
      expect(status, term).toBe(200);
      expect(body.total, term).toBe(total);
    }
  });

  it('answers wrong methods, unknown paths and bodies in the envelope', async () => {
    const post = await call('/controller/EventLog', TOKENS.admin, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(post.status).toBe(405);
    expect(post.body).toEqual({ success: false, message: expect.stringContaining('GET') });
    const deep = await call('/controller/EventLog/12/export/more');
    expect(deep.status).toBe(404);
    expect(deep.body.success).toBe(false);
    const deleted = await call('/controller/EventLog', TOKENS.admin, { method: 'DELETE' });
    expect(deleted.status).toBe(405);
  });
});
