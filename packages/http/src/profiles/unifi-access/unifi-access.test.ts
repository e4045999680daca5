import { createHandler, type Handler, unifiAccess, unifiAccessPreset, unifiAccessTokens } from '@eventlog/http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestHandler, createTestLog, ENVELOPES, expectRefusal, listen, send } from '../../testing/profile-test-kit.js';

// The seed's request sample: since 1690770546, until 1690771546 (2023-07-31, UTC).
const SINCE = 1_690_770_546;
const UNTIL = 1_690_771_546;
const NOW = (UNTIL + 3600) * 1000;
const ACTOR = '3e1f196e-c97b-4748-aecb-eab5e9c251b2';
const OTHER_ACTOR = '9b0c1d2e-0000-4000-8000-000000000001';
const BASE = '/api/v1/developer/system';
const RESOURCE_ID = '0418d6a38f00-b6906057-2a90-4426-835c-b5b172381fec';

const TOKENS = {
  admin: 'wHFmHR-admin-token',
  viewer: 'wHFmHR-viewer-token',
  noPermission: 'wHFmHR-door-only-token',
  site1: 'wHFmHR-site1-token',
};

const makeLog = () => createTestLog({ presets: [unifiAccessPreset], clock: () => NOW });
let log: ReturnType<typeof makeLog>;
let handler: Handler;

const door = { type: 'UAH', id: '7483c2773855', display_name: 'UA-HUB-3855', alternate_id: '', alternate_name: '' };

async function seed() {
  // 30 door openings by ACTOR inside the seed's window, every 30 s; 5 by another actor.
  for (let i = 0; i < 30; i++) {
    await log.record({
      type: 'access.door.unlock',
      time: (SINCE + i * 30) * 1000,
      actor: { id: ACTOR, type: 'user', name: 'Ada Lovelace' },
      message: i % 2 ? 'Access Denied / Unknown (NFC)' : 'Access Granted (Remote)',
      outcome: i % 2 ? 'BLOCKED' : 'ACCESS',
      tenantId: 'site-1',
      data: {
        authentication:
          i % 2 ? { credential_provider: 'NFC', issuer: '6FC02554' } : { credential_provider: 'REMOTE_THROUGH_UAH', issuer: '' },
        targets: [door, { type: 'door', id: 'e4978b83-203d-4015-97df-b86efc91cb0c', display_name: 'Door 3855' }],
        tag: 'access',
      },
    });
  }
  for (let i = 0; i < 5; i++) {
    await log.record({
      type: 'access.door.unlock',
      time: (SINCE + 10 + i * 60) * 1000,
      actor: { id: OTHER_ACTOR, type: 'visitor', name: 'Guest' },
      message: 'Access Granted (PIN)',
      outcome: 'ACCESS',
      tenantId: 'site-2',
      target: { type: 'door', id: 'door-9', name: 'Back Door' },
    });
  }
  const others = [
    ['access.device.offline', 3],
    ['access.device.upgrade', 2],
    ['access.device.online', 4],
    ['access.admin.settings_change', 2],
    ['access.visitor.create', 2],
  ] as const;
  let t = SINCE;
  for (const [type, count] of others) {
    for (let i = 0; i < count; i++) {
      t += 7;
      await log.record({
        type,
        time: t * 1000,
        actor: { id: 'system', type: 'system', name: 'System' },
        message: type,
        tenantId: 'site-1',
      });
    }
  }
  // Outside the window.
  await log.record({
    type: 'access.door.unlock',
    time: (SINCE - 86_400) * 1000,
    actor: { id: ACTOR, type: 'user', name: 'Ada Lovelace' },
    tenantId: 'site-1',
  });
}

beforeEach(async () => {
  log = makeLog();
  handler = createTestHandler(log, [
    unifiAccess({
      authenticate: unifiAccessTokens([
        { token: TOKENS.admin, name: 'admin' },
        { token: TOKENS.viewer, name: 'viewer', permissions: ['view:system_log'] },
        { token: TOKENS.noPermission, name: 'doors', permissions: ['edit:door'] },
        { token: TOKENS.site1, name: 'site 1', permissions: ['view:system_log'], principal: { role: 'user', id: 'site-1' } },
      ]),
      resource: (id) =>
        id === RESOURCE_ID
          ? {
              video_record: '/activities_resource/video/1708424638_f24a7b67-c584-4e22-a7b8-074f0fa93da0.mp4',
              video_record_thumbnail: '/activities_resource/thumbnail/1708424638_a6d1fa60-d895-4d4c-a40c-447f97c8824f.jpg',
              created_at: '2024-02-20T18:23:58+08:00',
              updated_at: '2024-02-20T18:23:58+08:00',
            }
          : null,
      staticResource: ({ path, preview }) =>
        path.includes('missing') ? null : new TextEncoder().encode(`${preview ? 'preview' : 'static'}:${path}`),
    }),
  ]);
  await seed();
});
afterEach(async () => {
  await log.close();
});

async function call(path: string, init: { method?: string; body?: unknown; token?: string | null; headers?: Record<string, string> } = {}) {
  const headers = new Headers({ accept: 'application/json', 'content-type': 'application/json', ...init.headers });
  const token = init.token === undefined ? TOKENS.admin : init.token;
  if (token !== null) headers.set('Authorization', `Bearer ${token}`);
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  return send(handler, `https://access.test${path}`, { method: init.method ?? 'POST', headers, ...(body === undefined ? {} : { body }) });
}

const seedBody = { topic: 'door_openings', since: SINCE, until: UNTIL, actor_id: ACTOR };

function expectHit(hit: Record<string, unknown>) {
  expect(hit).toEqual({
    '@timestamp': expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
    _id: expect.any(String),
    _source: {
      actor: {
        alternate_id: expect.any(String),
        alternate_name: expect.any(String),
        display_name: expect.any(String),
        id: expect.any(String),
        type: expect.any(String),
      },
      authentication: { credential_provider: expect.any(String), issuer: expect.any(String) },
      event: {
        display_message: expect.any(String),
        published: expect.any(Number),
        reason: expect.any(String),
        result: expect.any(String),
        type: expect.any(String),
      },
      target: expect.any(Array),
    },
    tag: expect.any(String),
  });
  for (const target of (hit._source as { target: Record<string, unknown>[] }).target) {
    expect(Object.keys(target).sort()).toEqual(['alternate_id', 'alternate_name', 'display_name', 'id', 'type']);
    for (const value of Object.values(target)) expect(typeof value).toBe('string');
  }
}

describe('unifiAccess: the seed examples', () => {
  it('Fetch System Logs: the request sample (page_size=1&page_num=25) answers the documented envelope', async () => {
    const { status, body } = await call(`${BASE}/logs?page_size=1&page_num=25`, { body: seedBody });
    expect(status).toBe(200);
    expect(body).toEqual({ code: 'SUCCESS', msg: 'success', data: { hits: expect.any(Array), page: 25, total: 30 }, page: 25, total: 30 });
    expect(body.data.hits).toHaveLength(1);
    const hit = body.data.hits[0];
    expectHit(hit);
    // Newest first: page 25 of 30 is the sixth oldest (i = 5), a BLOCKED NFC attempt.
    expect(hit).toMatchObject({
      '@timestamp': new Date((SINCE + 5 * 30) * 1000).toISOString().replace('.000Z', 'Z'),
      _source: {
        actor: { display_name: 'Ada Lovelace', id: ACTOR, type: 'user', alternate_id: '', alternate_name: '' },
        authentication: { credential_provider: 'NFC', issuer: '6FC02554' },
        event: {
          display_message: 'Access Denied / Unknown (NFC)',
          published: (SINCE + 5 * 30) * 1000,
          reason: '',
          result: 'BLOCKED',
          type: 'access.door.unlock',
        },
        target: [
          { alternate_id: '', alternate_name: '', display_name: 'UA-HUB-3855', id: '7483c2773855', type: 'UAH' },
          { alternate_id: '', alternate_name: '', display_name: 'Door 3855', id: 'e4978b83-203d-4015-97df-b86efc91cb0c', type: 'door' },
        ],
      },
      tag: 'access',
    });
  });

  it('maps every topic to its categories, with all covering every topic', async () => {
    const expected: Record<string, number> = {
      all: 48,
      door_openings: 35,
      critical: 3,
      updates: 2,
      device_events: 4,
      admin_activity: 2,
      visitor: 2,
    };
    for (const [topic, total] of Object.entries(expected)) {
      const { status, body } = await call(`${BASE}/logs`, { body: { topic, since: SINCE, until: UNTIL } });
      expect(status, topic).toBe(200);
      expect(body.total, topic).toBe(total);
      expect(body.data.total, topic).toBe(total);
      for (const hit of body.data.hits) expectHit(hit);
    }
    // since may be null (or absent): then the older opening counts too.
    expect((await call(`${BASE}/logs`, { body: { topic: 'door_openings', since: null, until: UNTIL } })).body.total).toBe(36);
    expect((await call(`${BASE}/logs`, { body: { topic: 'door_openings' } })).body.total).toBe(36);
    // The canonical target stands in when an event has no target list.
    const guest = await call(`${BASE}/logs`, { body: { topic: 'door_openings', actor_id: OTHER_ACTOR } });
    expect(guest.body.data.hits[0]._source.target).toEqual([
      { alternate_id: '', alternate_name: '', display_name: 'Back Door', id: 'door-9', type: 'door' },
    ]);
  });

  it('reads page_size from the JSON body when the query has none, and pages newest first', async () => {
    const viaBody = await call(`${BASE}/logs`, { body: { ...seedBody, page_size: 10, page_num: 3 } });
    expect(viaBody.body).toMatchObject({ page: 3, total: 30, data: { page: 3, total: 30 } });
    expect(viaBody.body.data.hits).toHaveLength(10);
    const viaString = await call(`${BASE}/logs`, { body: { ...seedBody, page_size: '10', since: String(SINCE) } });
    expect(viaString.body.data.hits).toHaveLength(10);
    const times = viaString.body.data.hits.map((h: { _source: { event: { published: number } } }) => h._source.event.published);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    // The query wins over the body.
    const both = await call(`${BASE}/logs?page_size=2`, { body: { ...seedBody, page_size: 10 } });
    expect(both.body.data.hits).toHaveLength(2);
    expect((await call(`${BASE}/logs`, { body: seedBody })).body.data.hits).toHaveLength(25);
  });

  it('Export System Logs: CSV bytes in the requested time zone with a file name', async () => {
    const { status, headers, text } = await call(`${BASE}/logs/export`, { body: { ...seedBody, timezone: 'America/New_York' } });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/csv/);
    expect(headers.get('content-disposition')).toBe('attachment; filename="system_logs_door_openings_20230730-20230730.csv"');
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('Time,Event Type,Message,Result,Actor,Actor ID,Actor Type,Credential Provider,Issuer,Targets,Reason,Tag');
    expect(lines).toHaveLength(31);
    // 02:29:06Z + 29 × 30 s = 02:43:36Z, i.e. 22:43:36 the day before in New York (EDT, UTC−4).
    expect(lines[1]).toBe(
      `2023-07-30T22:43:36-04:00,access.door.unlock,Access Denied / Unknown (NFC),BLOCKED,Ada Lovelace,${ACTOR},user,NFC,6FC02554,UAH:UA-HUB-3855; door:Door 3855,,access`,
    );
    const tokyo = await call(`${BASE}/logs/export`, { body: { topic: 'all', since: SINCE, until: UNTIL, timezone: 'Asia/Tokyo' } });
    expect(tokyo.text.split('\r\n')[1]).toMatch(/^2023-07-31T1\d:\d\d:\d\d\+09:00,/);
    expect(tokyo.text.trimEnd().split('\r\n')).toHaveLength(49);
  });

  it('Fetch Resources in System Logs through the host hook', async () => {
    const { status, body } = await call(`${BASE}/logs/resource/${RESOURCE_ID}`, { method: 'GET' });
    expect(status).toBe(200);
    expect(body).toEqual({
      code: 'SUCCESS',
      msg: 'success',
      data: {
        video_record: expect.stringMatching(/^\/activities_resource\/video\/.+\.mp4$/),
        video_record_thumbnail: expect.stringMatching(/^\/activities_resource\/thumbnail\/.+\.jpg$/),
        created_at: '2024-02-20T18:23:58+08:00',
        updated_at: '2024-02-20T18:23:58+08:00',
      },
    });
    const missing = await call(`${BASE}/logs/resource/not-there`, { method: 'GET' });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: 'CODE_RESOURCE_NOT_FOUND', msg: expect.any(String) });
  });

  it('Fetch Static Resources: avatar, preview, capture video and thumbnail paths through the host hook', async () => {
    const samples: [string, string][] = [
      [`${BASE}/static/%20avatar/dalaceb6-20ba-4285-a6b1-c4f2bf7161f8`, 'static:avatar/dalaceb6-20ba-4285-a6b1-c4f2bf7161f8'],
      [
        `${BASE}/static-preview/1700707333_9660da3a-06c8-459d-8cc9-24889d13fba5.png`,
        'preview:1700707333_9660da3a-06c8-459d-8cc9-24889d13fba5.png',
      ],
      [
        `${BASE}/static/activities_resource/video/1708402379_92746868-5c69-4a11-9d4c-33f03785d741.jpg`,
        'static:activities_resource/video/1708402379_92746868-5c69-4a11-9d4c-33f03785d741.jpg',
      ],
      [
        `${BASE}/static/activities_resource/thumbail/1708402379_92746868-5c69-4a11-9d4c-33f03785d741.jpg`,
        'static:activities_resource/thumbail/1708402379_92746868-5c69-4a11-9d4c-33f03785d741.jpg',
      ],
    ];
    for (const [path, content] of samples) {
      const { status, text, headers } = await call(path, { method: 'GET' });
      expect(status, path).toBe(200);
      expect(headers.get('content-type')).toBe('application/octet-stream');
      expect(text).toBe(content);
    }
    const missing = await call(`${BASE}/static/avatar/missing`, { method: 'GET' });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('CODE_RESOURCE_NOT_FOUND');
  });

  it('answers 404 in the envelope for resources and static files when the host has no hooks', async () => {
    const bare = createHandler({ log, profiles: [unifiAccess({ authenticate: unifiAccessTokens([{ token: TOKENS.admin }]) })] });
    for (const path of [`${BASE}/logs/resource/${RESOURCE_ID}`, `${BASE}/static/avatar/x`, `${BASE}/static-preview/x.png`]) {
      const response = await bare(new Request(`https://access.test${path}`, { headers: { Authorization: `Bearer ${TOKENS.admin}` } }));
      expect(response.status, path).toBe(404);
      expect(await response.json()).toEqual({ code: 'CODE_RESOURCE_NOT_FOUND', msg: expect.stringContaining('not served') });
    }
  });

  it('answers over a real socket', async () => {
    const { base, close } = await listen(handler);
    try {
      const response = await fetch(`${base}${BASE}/logs?page_size=1&page_num=25`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKENS.viewer}`, accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify(seedBody),
      });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body).toMatchObject({ code: 'SUCCESS', page: 25, total: 30, data: { page: 25, total: 30 } });
      expectHit(body.data.hits[0]);
      const csv = await fetch(`${base}${BASE}/logs/export`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKENS.viewer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...seedBody, timezone: 'America/New_York' }),
      });
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect((await csv.text()).trimEnd().split('\r\n')).toHaveLength(31);
    } finally {
      await close();
    }
  });
});

describe('unifiAccess: authorization matrix', () => {
  const endpoints: [string, string, unknown][] = [
    ['POST', `${BASE}/logs`, { topic: 'all' }],
    ['POST', `${BASE}/logs/export`, { topic: 'all', since: SINCE, until: UNTIL, timezone: 'UTC' }],
    ['GET', `${BASE}/logs/resource/${RESOURCE_ID}`, undefined],
    ['GET', `${BASE}/static/avatar/x`, undefined],
    ['GET', `${BASE}/static-preview/x.png`, undefined],
  ];

  it('refuses anonymous callers, wrong tokens and tokens without view:system_log', async () => {
    for (const [method, path, body] of endpoints) {
      const anonymous = await call(path, { method, body, token: null });
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.body).toEqual({ code: 'CODE_UNAUTHORIZED', msg: expect.any(String) });
      const wrong = await call(path, { method, body, token: 'wHFmHR-wrong' });
      expect(wrong.status, path).toBe(401);
      expect(wrong.body).toEqual({ code: 'CODE_ACCESS_TOKEN_INVALID', msg: expect.any(String) });
      const basic = await call(path, { method, body, token: null, headers: { Authorization: 'Basic YWRtaW46YWRtaW4=' } });
      expect(basic.status, path).toBe(401);
      const forbidden = await call(path, { method, body, token: TOKENS.noPermission });
      expect(forbidden.status, path).toBe(403);
      expect(forbidden.body).toEqual({ code: 'CODE_OPERATION_FORBIDDEN', msg: expect.stringContaining('view:system_log') });
      for (const token of [TOKENS.admin, TOKENS.viewer, TOKENS.site1]) {
        expect((await call(path, { method, body, token })).status, `${path} ${token}`).toBe(200);
      }
    }
  });

  it('narrows a site-scoped token to its own site in fetches and exports', async () => {
    const all = await call(`${BASE}/logs?page_size=1000`, { body: { topic: 'all' } });
    expect(all.body.total).toBe(49);
    const site = await call(`${BASE}/logs?page_size=1000`, { body: { topic: 'all' }, token: TOKENS.site1 });
    expect(site.body.total).toBe(44);
    expect(site.body.data.hits.some((h: { _source: { actor: { id: string } } }) => h._source.actor.id === OTHER_ACTOR)).toBe(false);
    const asked = await call(`${BASE}/logs`, { body: { topic: 'door_openings', actor_id: OTHER_ACTOR }, token: TOKENS.site1 });
    expect(asked.body.total).toBe(0);
    const csv = await call(`${BASE}/logs/export`, {
      body: { topic: 'all', since: SINCE, until: UNTIL, timezone: 'UTC' },
      token: TOKENS.site1,
    });
    expect(csv.text).not.toContain(OTHER_ACTOR);
    expect(csv.text.trimEnd().split('\r\n')).toHaveLength(44);
  });
});

describe('unifiAccess: bad input', () => {
  const fetchCases: [string, string, unknown, string][] = [
    ['no body', `${BASE}/logs`, undefined, 'topic'],
    ['empty object', `${BASE}/logs`, {}, 'topic'],
    ['unknown topic', `${BASE}/logs`, { topic: 'everything' }, 'topic'],
    ['topic as a number', `${BASE}/logs`, { topic: 5 }, 'topic'],
    ['topic with SQL', `${BASE}/logs`, { topic: "door_openings' OR '1'='1" }, 'topic'],
    ['topic wildcard', `${BASE}/logs`, { topic: '%' }, 'topic'],
    ['negative since', `${BASE}/logs`, { topic: 'all', since: -1 }, 'since'],
    ['since as words', `${BASE}/logs`, { topic: 'all', since: 'yesterday' }, 'since'],
    ['fractional since', `${BASE}/logs`, { topic: 'all', since: 1.5 }, 'since'],
    ['huge until', `${BASE}/logs`, { topic: 'all', until: 1e20 }, 'until'],
    ['since after until', `${BASE}/logs`, { topic: 'all', since: UNTIL, until: SINCE }, 'since'],
    ['actor_id as a number', `${BASE}/logs`, { topic: 'all', actor_id: 42 }, 'actor_id'],
    ['actor_id too long', `${BASE}/logs`, { topic: 'all', actor_id: 'x'.repeat(129) }, 'actor_id'],
    ['body page_size zero', `${BASE}/logs`, { topic: 'all', page_size: 0 }, 'page_size'],
    ['body page_size words', `${BASE}/logs`, { topic: 'all', page_size: 'many' }, 'page_size'],
    ['body array', `${BASE}/logs`, [{ topic: 'all' }], 'JSON object'],
    ['page_num zero', `${BASE}/logs?page_num=0`, { topic: 'all' }, 'page_num'],
    ['page_num negative', `${BASE}/logs?page_num=-1`, { topic: 'all' }, 'page_num'],
    ['page_num huge', `${BASE}/logs?page_num=99999999999999`, { topic: 'all' }, 'page_num'],
    ['page_num deep', `${BASE}/logs?page_num=100000&page_size=1000`, { topic: 'all' }, 'page'],
    ['page_size huge', `${BASE}/logs?page_size=100000`, { topic: 'all' }, 'page_size'],
    ['page_size words', `${BASE}/logs?page_size=abc`, { topic: 'all' }, 'page_size'],
    ['export without since', `${BASE}/logs/export`, { topic: 'all', until: UNTIL, timezone: 'UTC' }, 'since'],
    ['export with null since', `${BASE}/logs/export`, { topic: 'all', since: null, until: UNTIL, timezone: 'UTC' }, 'since'],
    ['export without timezone', `${BASE}/logs/export`, { topic: 'all', since: SINCE, until: UNTIL }, 'timezone'],
    [
      'export with a bad timezone',
      `${BASE}/logs/export`,
      { topic: 'all', since: SINCE, until: UNTIL, timezone: 'Mars/Olympus' },
      'timezone',
    ],
    [
      'export with SQL in timezone',
      `${BASE}/logs/export`,
      { topic: 'all', since: SINCE, until: UNTIL, timezone: "UTC'; DROP TABLE x;--" },
      'timezone',
    ],
    ['export over a month', `${BASE}/logs/export`, { topic: 'all', since: SINCE, until: SINCE + 32 * 86_400, timezone: 'UTC' }, 'month'],
    ['export over a year', `${BASE}/logs/export`, { topic: 'all', since: 0, until: UNTIL, timezone: 'UTC' }, 'month'],
    ['export reversed', `${BASE}/logs/export`, { topic: 'all', since: UNTIL, until: SINCE, timezone: 'UTC' }, 'since'],
    ['export unknown topic', `${BASE}/logs/export`, { topic: 'cameras', since: SINCE, until: UNTIL, timezone: 'UTC' }, 'topic'],
  ];

  it.each(fetchCases)('%s → 400 CODE_PARAMS_INVALID naming %s', async (_name, path, body, word) => {
    const { status, body: answer } = await call(path, { body });
    expect(status).toBe(400);
    expect(answer).toEqual({ code: 'CODE_PARAMS_INVALID', msg: expect.stringContaining(word) });
  });

  it('refuses malformed and oversized bodies, other media types and wrong methods in the envelope', async () => {
    const cases: [string, Parameters<typeof call>[1], number][] = [
      [`${BASE}/logs`, { body: '{"topic": ' }, 400],
      [`${BASE}/logs`, { body: JSON.stringify({ topic: 'all', pad: 'x'.repeat(20_000) }) }, 413],
      [`${BASE}/logs/export`, { body: JSON.stringify({ topic: 'all', pad: 'x'.repeat(20_000) }) }, 413],
      [`${BASE}/logs`, { body: 'topic=all', headers: { 'content-type': 'text/plain' } }, 415],
      [`${BASE}/logs`, { method: 'GET' }, 405],
      [`${BASE}/logs/export`, { method: 'GET' }, 405],
      [`${BASE}/logs/resource/x`, { method: 'DELETE' }, 405],
      [`${BASE}/nothing-here`, { method: 'GET' }, 404],
      [`${BASE}/logs/resource/1'%20OR%201=1`, { method: 'GET' }, 400],
      [`${BASE}/logs/resource/${'a'.repeat(300)}`, { method: 'GET' }, 400],
      [`${BASE}/static/..%2F..%2Fetc%2Fpasswd`, { method: 'GET' }, 400],
      [`${BASE}/static/avatar/..%2F..%2Fsecret`, { method: 'GET' }, 400],
      [`${BASE}/static-preview/a%5Cb.png`, { method: 'GET' }, 400],
    ];
    for (const [path, init, expected] of cases) {
      const response = await call(path, init);
      expectRefusal(response, ENVELOPES.unifiAccess, path);
      const { status, body } = response;
      expect(status, path).toBe(expected);
      expect(body, path).toEqual({ code: expect.stringMatching(/^CODE_/), msg: expect.any(String) });
      expect(body.code).not.toBe('SUCCESS');
    }
  });

  it('treats SQL and wildcard characters in actor_id as a plain value', async () => {
    for (const actor of ["' OR 1=1 --", '%', '_', '*']) {
      const { status, body } = await call(`${BASE}/logs`, { body: { topic: 'all', actor_id: actor } });
      expect(status, actor).toBe(200);
      expect(body.total, actor).toBe(0);
    }
  });
});
