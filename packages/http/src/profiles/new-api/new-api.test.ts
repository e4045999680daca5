import { createHandler } from '@eventlog/http';
import { NEW_API_DOC_TYPE_CODES, newApi } from '@eventlog/http/new-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, shapeMismatches } from '../../testing/profile-test-kit.js';

import { admin, as, authenticate, call, handler, headers, log, NOW, START, useNewApiFixture, user } from './fixture.js';

useNewApiFixture();

// The request examples of seeds/new-api-log-module.md, verbatim, with the seed's response examples.
const EXAMPLES = {
  token: {
    path: '/api/log/token?key=<TOKEN>',
    example: {
      success: true,
      message: '',
      data: [{ id: 1, type: 2, content: 'API调用成功', model_name: 'gpt-4', quota: 1000, created_at: 1640995000 }],
    },
  },
  selfStat: {
    path: '/api/log/self/stat?type=2&start_timestamp=1640908800&end_timestamp=1640995200&token_name=api_token&model_name=gpt-4&group=default',
    example: { success: true, message: '', data: { quota: 50000, rpm: 10, tpm: 1500 } },
  },
  self: {
    path: '/api/log/self?p=1&page_size=20&type=2&start_timestamp=1640908800&end_timestamp=1640995200&token_name=api_token&model_name=gpt-4&group=default',
    example: {
      success: true,
      message: '',
      data: {
        items: [
          {
            id: 1,
            user_id: 1,
            created_at: 1640995000,
            type: 2,
            content: 'API调用成功',
            token_name: 'api_token',
            model_name: 'gpt-4',
            quota: 1000,
            prompt_tokens: 50,
            completion_tokens: 100,
          },
        ],
        total: 25,
        page: 1,
        page_size: 20,
      },
    },
  },
  selfSearch: {
    path: '/api/log/self/search?keyword=gpt-4',
    example: {
      success: true,
      message: '',
      data: [{ id: 1, type: 2, content: 'GPT-4调用成功', model_name: 'gpt-4', created_at: 1640995000 }],
    },
  },
  all: {
    path: '/api/log/?p=1&page_size=20&type=2&start_timestamp=1640908800&end_timestamp=1640995200&username=testuser&token_name=api_token&model_name=gpt-4&channel=1&group=default',
    example: {
      success: true,
      message: '',
      data: {
        items: [
          {
            id: 1,
            user_id: 1,
            created_at: 1640995000,
            type: 2,
            content: 'API调用成功',
            username: 'testuser',
            token_name: 'api_token',
            model_name: 'gpt-4',
            quota: 1000,
            prompt_tokens: 50,
            completion_tokens: 100,
            use_time: 2,
            is_stream: false,
            channel_id: 1,
            channel_name: 'OpenAI渠道',
            token_id: 1,
            group: 'default',
            ip: '192.168.1.1',
            other: '{"model_ratio":15.0}',
          },
        ],
        total: 100,
        page: 1,
        page_size: 20,
      },
    },
  },
  delete: { path: '/api/log/?target_timestamp=1640908800', example: { success: true, message: '', data: 1500 } },
  stat: {
    path: '/api/log/stat?type=2&start_timestamp=1640908800&end_timestamp=1640995200&username=testuser&token_name=api_token&model_name=gpt-4&channel=1&group=default',
    example: { success: true, message: '', data: { quota: 150000, rpm: 25, tpm: 3500 } },
  },
  search: {
    path: '/api/log/search?keyword=error',
    example: {
      success: true,
      message: '',
      data: [{ id: 1, type: 4, content: 'API调用错误', username: 'testuser', created_at: 1640995000 }],
    },
  },
} as const;

describe('new-api: the seed examples over a real socket', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    server = await listen((request) => handler(request));
  });
  afterAll(async () => {
    await server.close();
  });
  const fetchJson = async (path: string, init: RequestInit) => {
    const response = await fetch(`${server.base}${path}`, init);
    return { status: response.status, body: await response.json() };
  };

  it('GET /api/log/token answers the documented shape, newest first, for that token only', async () => {
    const r = await fetchJson(EXAMPLES.token.path.replace('<TOKEN>', 'sk-user1key'), { headers: { 'Content-Type': 'application/json' } });
    expect(r.status).toBe(200);
    expect(shapeMismatches(r.body, EXAMPLES.token.example)).toEqual([]);
    expect(r.body.data.map((i: { created_at: number }) => i.created_at)).toEqual([
      NOW - 5,
      NOW - 10,
      NOW - 20,
      NOW - 30,
      START + 100,
      START - 100,
    ]);
    expect(r.body.data.every((i: { token_id: number; user_id: number }) => i.token_id === 11 && i.user_id === 1)).toBe(true);
    expect(r.body.data[0]).not.toHaveProperty('channel_name');
    expect(JSON.parse(r.body.data[0].other)).toEqual({ model_ratio: 15 });
  });

  it('GET /api/log/self/stat sums quota in range and rpm/tpm over the last 60 s, consume rows only', async () => {
    const r = await fetchJson(EXAMPLES.selfStat.path, { headers: headers('user-token', 1) });
    expect(shapeMismatches(r.body, EXAMPLES.selfStat.example)).toEqual([]);
    // api_token + gpt-4 + default, consume: NOW-30 (1000), NOW-20 (500), START+100 (2000), NOW-5 channel 2 (40).
    expect(r.body.data).toEqual({ quota: 3540, rpm: 3, tpm: 150 + 30 + 150 });
  });

  it('GET /api/log/self pages the caller’s rows with the documented fields', async () => {
    const r = await fetchJson(EXAMPLES.self.path, { headers: headers('user-token', 1) });
    expect(shapeMismatches(r.body, EXAMPLES.self.example)).toEqual([]);
    expect(r.body.data).toMatchObject({ total: 4, page: 1, page_size: 20 });
    expect(r.body.data.items[0]).toMatchObject({ user_id: 1, type: 2, content: 'API调用成功', created_at: NOW - 5, quota: 40 });
    expect(r.body.data.items[0]).not.toHaveProperty('channel_id');
  });

  it('GET /api/log/self/search finds the caller’s rows only', async () => {
    const r = await fetchJson(EXAMPLES.selfSearch.path, { headers: headers('user-token', 1) });
    expect(shapeMismatches(r.body, EXAMPLES.selfSearch.example)).toEqual([]);
  });

  it('GET /api/log/ answers every documented admin field with its JSON type', async () => {
    const r = await fetchJson(EXAMPLES.all.path, { headers: headers('admin-token', 100) });
    expect(shapeMismatches(r.body, EXAMPLES.all.example)).toEqual([]);
    expect(r.body.data.total).toBe(3);
    expect(r.body.data.items[0]).toMatchObject({ channel: 1, channel_id: 1, channel_name: 'OpenAI渠道', is_stream: false, use_time: 2 });
    expect(JSON.parse(r.body.data.items[0].other)).toEqual({ model_ratio: 15, admin_info: { use_channel: ['1'] } });
  });

  it('GET /api/log/stat answers quota, rpm and tpm', async () => {
    const r = await fetchJson(EXAMPLES.stat.path, { headers: headers('admin-token', 100) });
    expect(shapeMismatches(r.body, EXAMPLES.stat.example)).toEqual([]);
    expect(r.body.data).toEqual({ quota: 3500, rpm: 2, tpm: 150 + 30 });
  });

  it('GET /api/log/search matches content across users', async () => {
    const r = await fetchJson(EXAMPLES.search.path.replace('error', '错误'), { headers: headers('admin-token', 100) });
    expect(shapeMismatches(r.body, EXAMPLES.search.example)).toEqual([]);
    expect(r.body.data).toHaveLength(1);
    expect(r.body.data[0]).toMatchObject({ type: 5, content: 'API调用错误', username: 'testuser' });
    // The seed's own keyword matches the row's type ("can match log type or content").
    const literal = await fetchJson(EXAMPLES.search.path, { headers: headers('admin-token', 100) });
    expect(literal.body.data).toEqual([expect.objectContaining({ type: 5, content: 'API调用错误' })]);
  });

  it('DELETE /api/log/ deletes rows strictly older than target_timestamp and returns the count', async () => {
    const r = await fetchJson(EXAMPLES.delete.path, { method: 'DELETE', headers: headers('admin-token', 100) });
    expect(shapeMismatches(r.body, EXAMPLES.delete.example)).toEqual([]);
    expect(r.body.data).toBe(1);
    expect(await log.count({ type: 'other.product' })).toBe(1);
  });
});

describe('new-api wire tolerance (WIRE-NOTES)', () => {
  it('serves /api/log and /api/log/ alike', async () => {
    const a = await admin('/api/log?p=1');
    const b = await admin('/api/log/?p=1');
    expect(a.body).toEqual(b.body);
    expect(a.body.data.total).toBe(11);
  });

  it('treats p < 1 as 1, page_size 0 as the default, clamps large page sizes, ignores empty and unknown parameters', async () => {
    expect((await admin('/api/log/?p=0')).body.data).toMatchObject({ page: 1, page_size: 20 });
    expect((await admin('/api/log/?p=-3&page_size=0')).body.data).toMatchObject({ page: 1, page_size: 20 });
    expect((await admin('/api/log/?page_size=-1')).body.data.page_size).toBe(20);
    expect((await admin('/api/log/?page_size=5000')).body.data.page_size).toBe(100);
    const r = await admin(
      '/api/log/?type=&token_name=&model_name=&username=&group=&channel=&start_timestamp=&end_timestamp=&request_id=abc&upstream_request_id=x',
    );
    expect(r.body.success).toBe(true);
    expect(r.body.data.total).toBe(11);
    expect((await admin('/api/log/?type=0')).body.data.total).toBe(11);
    expect((await admin('/api/log/?p=2&page_size=4')).body.data.items).toHaveLength(4);
  });

  it('maps type codes the product’s way by default, and the document’s way when configured', async () => {
    expect((await admin('/api/log/?type=5')).body.data.items.map((i: { content: string }) => i.content)).toEqual(['API调用错误']);
    expect((await admin('/api/log/?type=4')).body.data.items.map((i: { type: number }) => i.type)).toEqual([4]);
    expect((await admin('/api/log/?type=99')).body.data).toMatchObject({ items: [], total: 0 });
    const doc = createHandler({ log, profiles: [newApi({ authenticate, typeCodes: NEW_API_DOC_TYPE_CODES })] });
    const r = await (await doc(new Request('http://test/api/log/?type=4', { headers: headers('admin-token', 100) }))).json();
    expect(r.data.items).toEqual([expect.objectContaining({ type: 4, content: 'API调用错误' })]);
  });

  it('accepts the token key as Bearer, with CORS', async () => {
    const r = await call('/api/log/token', { headers: { Authorization: 'Bearer sk-user2key', Origin: 'https://dash.example' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.body.data.map((i: { content: string }) => i.content)).toEqual(['secret of user 2']);
    const pre = await handler(
      new Request('http://test/api/log/token', {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://dash.example',
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'authorization,content-type',
        },
      }),
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect((await admin('/api/log/')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('reads New-Api-User in any capitalisation and ignores other vendor headers', async () => {
    const r = await call('/api/log/self', {
      headers: { authorization: 'Bearer user-token', 'new-api-user': '1', 'Veloera-User': '1', 'X-Other': 'y' },
    });
    expect(r.body.success).toBe(true);
  });

  it('stats ignore pagination and type, and rpm/tpm ignore the time range', async () => {
    const r = await admin(`/api/log/stat?type=1&p=3&page_size=1&start_timestamp=${START}&end_timestamp=${START + 200}`);
    expect(r.body.data).toEqual({ quota: 2000, rpm: 6, tpm: 5 * 150 + 30 });
  });

  it('masks ip addresses when asked to', async () => {
    const masked = createHandler({ log, profiles: [newApi({ authenticate, maskIp: true })] });
    const r = await (await masked(new Request('http://test/api/log/?model_name=gpt-3.5', { headers: headers('admin-token', 100) }))).json();
    expect(r.data.items[0].ip).toBe('192.168.1.0');
  });

  it('answers a missing target_timestamp the product’s way', async () => {
    const r = await admin('/api/log/', 'DELETE');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ success: false, message: 'target timestamp is required' });
  });
});

describe('new-api authorization matrix', () => {
  const endpoints: { path: string; method?: string; scope: 'self' | 'admin' }[] = [
    { path: '/api/log/self', scope: 'self' },
    { path: '/api/log/self/stat', scope: 'self' },
    { path: '/api/log/self/search?keyword=API', scope: 'self' },
    { path: '/api/log/', scope: 'admin' },
    { path: '/api/log', scope: 'admin' },
    { path: '/api/log/stat', scope: 'admin' },
    { path: '/api/log/search?keyword=API', scope: 'admin' },
    { path: `/api/log/?target_timestamp=${NOW - 500}`, method: 'DELETE', scope: 'admin' },
  ];

  it('answers anonymous, wrong key and mismatched user with 401 success:false', async () => {
    for (const { path, method = 'GET' } of endpoints) {
      for (const h of [
        headers(),
        headers('nope', 1),
        headers('user-token'),
        headers('user-token', 2),
        headers('user-token', 'abc'),
        { Authorization: 'Basic dXNlcjpwYXNz', 'New-Api-User': '1' },
      ]) {
        const r = await call(path, { method, headers: h });
        expect(r.status, `${method} ${path} ${JSON.stringify(h)}`).toBe(401);
        expect(r.body.success).toBe(false);
        expect(r.body.message).toMatch(/\w/);
      }
    }
    expect(await log.count()).toBe(12);
  });

  it('gives a user HTTP 200 success:false on admin endpoints and only their own rows elsewhere', async () => {
    for (const { path, method = 'GET', scope } of endpoints) {
      const r = await user(path, method);
      expect(r.status, path).toBe(200);
      expect(r.body.success, path).toBe(scope === 'self');
      if (scope === 'admin') expect(r.body.message).toMatch(/administrator/);
    }
    expect(await log.count()).toBe(12);
    const own = (await user('/api/log/self?page_size=100')).body.data;
    expect(own.total).toBe(9);
    expect(own.items.every((i: { user_id: number }) => i.user_id === 1)).toBe(true);
    const search = (await user('/api/log/self/search?keyword=secret')).body.data;
    expect(search).toEqual([]);
    const other = (await call('/api/log/self/stat', { headers: headers('other-token', 2) })).body.data;
    expect(other).toEqual({ quota: 9000, rpm: 1, tpm: 150 });
    // A user cannot widen their scope with admin-only filters.
    expect((await user('/api/log/self?username=otheruser&channel=2')).body.data.total).toBe(9);
  });

  it('lets admins and root use every endpoint', async () => {
    for (const { path, method = 'GET' } of endpoints.filter((e) => !e.method)) {
      for (const who of [admin, as('root-token', 101)]) {
        const r = await who(path);
        expect(r.status).toBe(200);
        expect(r.body.success, path).toBe(true);
      }
      void method;
    }
    expect((await admin(`/api/log/?target_timestamp=${NOW - 500}`, 'DELETE')).body).toEqual({ success: true, message: '', data: 4 });
  });

  it('token query: unknown key, missing key, and no hook are 401; a key never reads another token', async () => {
    expect((await call('/api/log/token?key=sk-nope')).status).toBe(401);
    expect((await call('/api/log/token')).body).toEqual({
      success: false,
      message: 'Send the token key as ?key= or Authorization: Bearer sk-….',
    });
    const noHook = createHandler({ log, profiles: [newApi({ authenticate })] });
    expect((await noHook(new Request('http://test/api/log/token?key=user1key'))).status).toBe(401);
    const mine = (await call('/api/log/token?key=user1key')).body.data;
    expect(mine.every((i: { user_id: number; token_id: number }) => i.user_id === 1 && i.token_id === 11)).toBe(true);
  });
});
