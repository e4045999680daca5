// The seeded log, handler and request helpers that the new-api profile's test files share.
import { type AnyEventLog, createHandler, type Handler } from '@eventlog/http';
import { type NewApiLogInput, newApi, newApiEvent, newApiPreset, staticTokenKeys, staticTokens } from '@eventlog/http/new-api';
import { afterEach, beforeEach } from 'vitest';
import { createTestLog, send } from '../../testing/profile-test-kit.js';

// Seconds. The seed's examples ask for 1640908800 … 1640995200; "now" is 30 s after the last row.
export const NOW = 1_640_995_030;
export const START = 1_640_908_800;

export const authenticate = staticTokens([
  { token: 'admin-token', userId: 100, role: 'admin' },
  { token: 'root-token', userId: 101, role: 'root' },
  { token: 'user-token', userId: 1, role: 'user' },
  { token: 'other-token', userId: 2, role: 'user' },
]);
export const resolveTokenKey = staticTokenKeys([
  { key: 'user1key', tokenId: 11, userId: 1 },
  { key: 'user2key', tokenId: 21, userId: 2 },
]);

export const consume = (over: Partial<NewApiLogInput>): NewApiLogInput => ({
  kind: 'consume',
  user_id: 1,
  username: 'testuser',
  created_at: NOW - 30,
  content: 'API调用成功',
  token_name: 'api_token',
  token_id: 11,
  model_name: 'gpt-4',
  quota: 1000,
  prompt_tokens: 50,
  completion_tokens: 100,
  use_time: 2,
  is_stream: false,
  channel_id: 1,
  channel_name: 'OpenAI渠道',
  group: 'default',
  ip: '192.168.1.1',
  other: { model_ratio: 15.0, admin_info: { use_channel: ['1'] } },
  ...over,
});

export const ROWS: NewApiLogInput[] = [
  consume({}),
  consume({ created_at: NOW - 20, quota: 500, prompt_tokens: 10, completion_tokens: 20 }),
  consume({ created_at: START + 100, quota: 2000 }),
  consume({ created_at: START - 100, quota: 7000 }), // before the range
  consume({ created_at: NOW - 10, model_name: 'gpt-3.5', quota: 300 }),
  consume({ created_at: NOW - 15, token_name: 'other_token', token_id: 12, quota: 100 }),
  consume({ created_at: NOW - 5, channel_id: 2, quota: 40 }),
  {
    kind: 'error',
    user_id: 1,
    username: 'testuser',
    created_at: NOW - 25,
    content: 'API调用错误',
    model_name: 'gpt-4',
    token_name: 'api_token',
    group: 'default',
    channel_id: 1,
  },
  { kind: 'topup', user_id: 1, username: 'testuser', created_at: NOW - 1000, content: '充值 100', quota: 100000 },
  consume({
    user_id: 2,
    username: 'otheruser',
    token_name: 'api_token',
    token_id: 21,
    created_at: NOW - 12,
    quota: 9000,
    content: 'secret of user 2',
  }),
  { kind: 'system', user_id: 100, username: 'admin', created_at: NOW - 2000, content: 'system restarted' },
];

export let log: AnyEventLog;
export let handler: Handler;

/** Registers the hooks that give each test a fresh seeded log and handler. */
export function useNewApiFixture(): void {
  beforeEach(async () => {
    log = createTestLog({ presets: [newApiPreset], allowUnknownTypes: true, clock: () => NOW * 1000 });
    handler = createHandler({ log, profiles: [newApi({ authenticate, resolveTokenKey })] });
    await log.recordMany(ROWS.map(newApiEvent));
    // Another product's event in the same log must never show up in new-api answers.
    await log.record({ type: 'other.product', tenantId: '1', message: 'API调用成功 from elsewhere', time: (NOW - 1) * 1000 });
  });
  afterEach(async () => {
    await log.close();
  });
}

export const headers = (token?: string, user?: string | number) => {
  const h: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) h.Authorization = `Bearer ${token}`;
  if (user !== undefined) h['New-Api-User'] = String(user);
  return h;
};
export const call = async (path: string, init: RequestInit = {}) => {
  const response = await send(handler, `http://test${path}`, init);
  return { ...response, body: JSON.parse(response.text) };
};
export const as =
  (token: string, user: number) =>
  (path: string, method = 'GET') =>
    call(path, { method, headers: headers(token, user) });
export const admin = as('admin-token', 100);
export const user = as('user-token', 1);
