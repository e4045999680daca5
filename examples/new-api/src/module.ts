/**
 * The new-api example as a module: the profile with credentials from the environment, the demo
 * data, a little live traffic and the banner. `examples/demo` mounts it beside the others.
 */
import type { EventInput } from '@eventlog/core';
import { ascendingTimes, type ExampleModule, env, type Random, recordInChunks, shellQuote } from '@eventlog/example-shared';
import { type NewApiKind, type NewApiLogInput, newApi, newApiEvent, newApiPreset, staticTokenKeys, staticTokens } from '@eventlog/http';

/** Demo credentials; every one can be replaced through its environment variable. */
export function newApiCredentials() {
  return {
    adminToken: env('NEW_API_ADMIN_TOKEN', 'demo-admin-token'),
    userToken: env('NEW_API_USER_TOKEN', 'demo-user-token'),
    tokenKey: env('NEW_API_TOKEN_KEY', 'demo-token-key'),
  };
}

interface User {
  id: number;
  name: string;
  group: string;
  tokens: { id: number; name: string }[];
}

/** User 1 is the admin, user 2 the user whose token key is NEW_API_TOKEN_KEY (token 3, `api_token`). */
const USERS: User[] = [
  { id: 1, name: 'admin', group: 'default', tokens: [{ id: 1, name: 'admin-console' }] },
  {
    id: 2,
    name: 'testuser',
    group: 'default',
    tokens: [
      { id: 2, name: 'default' },
      { id: 3, name: 'api_token' },
    ],
  },
  {
    id: 3,
    name: 'alice',
    group: 'vip',
    tokens: [
      { id: 4, name: 'prod' },
      { id: 5, name: 'staging' },
    ],
  },
  { id: 4, name: 'bob', group: 'default', tokens: [{ id: 6, name: 'laptop' }] },
  {
    id: 5,
    name: 'carol',
    group: 'vip',
    tokens: [
      { id: 7, name: 'batch-jobs' },
      { id: 8, name: 'notebook' },
    ],
  },
];
const KEYED_TOKEN = { tokenId: 3, userId: 2 };

const MODELS = [
  { name: 'gpt-4', channel: 1, ratio: 15 },
  { name: 'gpt-4o', channel: 1, ratio: 2.5 },
  { name: 'gpt-4o-mini', channel: 1, ratio: 0.15 },
  { name: 'claude-3-5-sonnet', channel: 2, ratio: 3 },
  { name: 'gemini-1.5-pro', channel: 3, ratio: 1.25 },
  { name: 'deepseek-chat', channel: 4, ratio: 0.27 },
] as const;
const CHANNELS: Record<number, string> = { 1: 'OpenAI渠道', 2: 'Anthropic', 3: 'Google Vertex', 4: 'DeepSeek' };
const IPS = ['192.168.1.1', '192.168.1.23', '10.0.4.17', '172.16.8.2', '198.51.100.14'];
const BRUTE_FORCE_IP = '203.0.113.66';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function consume(random: Random, time: number, user = random.pick(USERS.slice(1))): NewApiLogInput {
  const model = random.pick(MODELS);
  const token = random.pick(user.tokens);
  const prompt = random.int(20, 4000);
  const completion = random.int(10, 1500);
  return {
    kind: 'consume',
    user_id: user.id,
    username: user.name,
    created_at: Math.floor(time / 1000),
    content: `${model.name} 调用成功，模型倍率 ${model.ratio}，分组倍率 1`,
    token_name: token.name,
    token_id: token.id,
    model_name: model.name,
    quota: Math.round((prompt + completion * 2) * model.ratio),
    prompt_tokens: prompt,
    completion_tokens: completion,
    use_time: random.int(1, 30),
    is_stream: random.chance(0.6),
    channel_id: model.channel,
    channel_name: CHANNELS[model.channel]!,
    group: user.group,
    ip: random.pick(IPS),
    other: { model_ratio: model.ratio, group_ratio: 1, admin_info: { use_channel: [String(model.channel)] } },
  };
}

function other(random: Random, time: number): NewApiLogInput {
  const user = random.pick(USERS);
  const kind: NewApiKind = random.pick(['topup', 'manage', 'system', 'error', 'refund', 'login', 'error', 'error']);
  const model = random.pick(MODELS);
  const base = {
    kind,
    user_id: user.id,
    username: user.name,
    created_at: Math.floor(time / 1000),
    ip: random.pick(IPS),
    group: user.group,
  };
  switch (kind) {
    case 'topup':
      return { ...base, content: `通过兑换码充值 $${random.int(5, 100)}`, quota: random.int(1, 50) * 500_000 };
    case 'manage':
      return {
        ...base,
        user_id: 1,
        username: 'admin',
        content: `管理员将用户 ${random.pick(USERS).name} 的额度修改为 ${random.int(1, 9) * 100_000}`,
      };
    case 'system':
      return {
        ...base,
        user_id: 1,
        username: 'admin',
        content: random.pick(['channel test finished', 'quota data exported', 'option updated: ModelRatio']),
      };
    case 'error':
      return {
        ...base,
        content: random.pick([
          'API调用错误: upstream 429 Too Many Requests',
          'API调用错误: context length exceeded',
          'error: channel timeout after 60s',
        ]),
        model_name: model.name,
        channel_id: model.channel,
        channel_name: CHANNELS[model.channel]!,
        token_name: user.tokens[0]!.name,
        token_id: user.tokens[0]!.id,
      };
    case 'refund':
      return { ...base, content: 'refund for a failed stream', quota: random.int(100, 5000), model_name: model.name };
    default:
      return { ...base, content: '用户登录' };
  }
}

/** Bulk rows spread over the last seven days, then the fixed scenario. */
function* rows(random: Random, size: number, now: number): Generator<EventInput> {
  for (const time of ascendingTimes(size, () => now - random.int(2 * MINUTE, 7 * DAY))) {
    yield newApiEvent(random.chance(0.85) ? consume(random, time) : other(random, time));
  }
  // Token usage over the last six hours: every few minutes, so the hourly figures are never empty.
  for (let t = now - 6 * HOUR; t < now - 2 * MINUTE; t += random.int(2, 6) * MINUTE) yield newApiEvent(consume(random, t));
  // The rows of the seed document's own example queries (token api_token, model gpt-4, group default, channel 1).
  for (let i = 0; i < 25; i++) {
    const row = consume(random, now - random.int(5 * MINUTE, 3 * HOUR), USERS[1]);
    yield newApiEvent({
      ...row,
      token_name: 'api_token',
      token_id: 3,
      model_name: 'gpt-4',
      channel_id: 1,
      channel_name: CHANNELS[1]!,
      content: 'gpt-4 API调用成功',
    });
  }
  // A brute-forcing client: failed sign-ins from one address, recorded as error rows.
  for (let i = 0; i < 12; i++) {
    yield newApiEvent({
      kind: 'error',
      user_id: 1,
      username: 'admin',
      created_at: Math.floor((now - 40 * MINUTE + i * 20_000) / 1000),
      content: 'login failed: wrong password for admin',
      ip: BRUTE_FORCE_IP,
    });
  }
  // The last minute: what RPM and TPM count right after the first start.
  for (let i = 0; i < 20; i++) yield newApiEvent(consume(random, now - random.int(1_000, 50_000)));
}

/** The new-api example module. */
export const newApiExample: ExampleModule = {
  name: 'new-api',
  presets: [newApiPreset],
  profiles() {
    const credentials = newApiCredentials();
    return [
      newApi({
        authenticate: staticTokens([
          { token: credentials.adminToken, userId: 1, role: 'admin' },
          { token: credentials.userToken, userId: 2, role: 'user' },
        ]),
        resolveTokenKey: staticTokenKeys([{ key: credentials.tokenKey.replace(/^sk-/, ''), ...KEYED_TOKEN }]),
      }),
    ];
  },
  seed: ({ log, size, now, random }) => recordInChunks(log, rows(random, size, now)),
  async live({ log, random }) {
    const now = Date.now();
    await log.recordMany(Array.from({ length: random.int(1, 4) }, () => newApiEvent(consume(random, now))));
  },
  banner(base) {
    const { adminToken, userToken, tokenKey } = newApiCredentials();
    const admin = `-H ${shellQuote(`Authorization: Bearer ${adminToken}`)} -H 'New-Api-User: 1'`;
    const user = `-H ${shellQuote(`Authorization: Bearer ${userToken}`)} -H 'New-Api-User: 2'`;
    const dayAgo = Math.floor(Date.now() / 1000) - 86_400;
    const monthAgo = Math.floor(Date.now() / 1000) - 30 * 86_400;
    return [
      'new-api (/api/log…): admin is user 1 (NEW_API_ADMIN_TOKEN), the user is user 2 (NEW_API_USER_TOKEN),',
      `  token key NEW_API_TOKEN_KEY=${tokenKey}; type codes 1 top-up, 2 consume, 3 manage, 4 system, 5 error, 6 refund, 7 login`,
      `  curl ${shellQuote(`${base}/api/log/token?key=${tokenKey}`)}`,
      `  curl ${user} ${shellQuote(`${base}/api/log/self/stat?type=2&start_timestamp=${dayAgo}&token_name=api_token&model_name=gpt-4&group=default`)}`,
      `  curl ${user} ${shellQuote(`${base}/api/log/self?p=1&page_size=20&type=2&token_name=api_token&model_name=gpt-4&group=default`)}`,
      `  curl ${user} ${shellQuote(`${base}/api/log/self/search?keyword=gpt-4`)}`,
      `  curl ${admin} ${shellQuote(`${base}/api/log/?p=1&page_size=20&type=2&username=testuser&token_name=api_token&model_name=gpt-4&channel=1&group=default`)}`,
      `  curl ${admin} ${shellQuote(`${base}/api/log/stat?type=2&start_timestamp=${dayAgo}`)}`,
      `  curl ${admin} ${shellQuote(`${base}/api/log/search?keyword=error`)}`,
      `  curl -X DELETE ${admin} ${shellQuote(`${base}/api/log/?target_timestamp=${monthAgo}`)}`,
      '',
    ];
  },
};
