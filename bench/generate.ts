import type { EventInput } from '@eventlog/core';
import { hash32, Rng, Weighted, zipf } from './random.js';

// A deterministic generator of realistic events. Event `i` of a run of `total` is a pure function
// of (seed, i, total), so any range can be generated on its own, in any order, by any process, and
// eventlog and the raw driver see byte-identical input.

/** The fixed "now" every run ends at: one day after Europe's 2025 spring-forward (30 March, 01:00 UTC). */
export const NOW = Date.UTC(2025, 2, 31, 12, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** The generated events cover the 30 days before {@link NOW}. */
export const SPAN_DAYS = 30;
export const START = NOW - SPAN_DAYS * DAY;
/** A zone whose hourly buckets cross a DST change inside the last 7 days. */
export const DST_ZONE = 'Europe/Berlin';
export const DEFAULT_SEED = 20250331;

export { Rng } from './random.js';

// ---- vocabulary -----------------------------------------------------------------------------

/** Tenants, most active first (Zipf-distributed traffic). */
export const TENANTS: readonly string[] = Array.from({ length: 24 }, (_, i) => `tenant-${String(i + 1).padStart(2, '0')}`);
const tenantWeights = zipf(TENANTS, 1);

const MODELS = new Weighted<readonly [string, number, number]>([
  // [name, model ratio, completion ratio], weight
  [['gpt-4o-mini', 0.075, 4], 30],
  [['gpt-4o', 1.25, 4], 15],
  [['claude-3-5-sonnet-20241022', 1.5, 5], 12],
  [['claude-3-5-haiku-20241022', 0.4, 5], 8],
  [['gemini-1.5-flash', 0.0375, 4], 8],
  [['gemini-1.5-pro', 0.625, 4], 4],
  [['deepseek-chat', 0.135, 2], 10],
  [['deepseek-reasoner', 0.275, 4], 4],
  [['qwen-max', 0.8, 3], 4],
  [['llama-3.1-70b-instruct', 0.35, 1], 3],
  [['o1-mini', 1.5, 4], 2],
]);
const GROUPS = new Weighted<readonly [string, number]>([
  [['default', 1], 70],
  [['vip', 0.8], 20],
  [['svip', 0.6], 10],
]);
const SDK_AGENTS = [
  'OpenAI/Python 1.54.4',
  'OpenAI/NodeJS 4.73.0',
  'anthropic-sdk-python/0.39.0',
  'curl/8.5.0',
  'LangChain/0.3.7',
  'Dify/0.11.2',
];
const USER_NAMES = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'niaj',
  'olivia',
  'peggy',
  'rupert',
  'sybil',
];
const TOKEN_SUFFIXES = ['prod', 'dev', 'ci', 'bot', 'test'];

const HOSTS = zipf(
  [
    'api.github.com',
    'registry.npmjs.org',
    'pypi.org',
    'files.pythonhosted.org',
    'www.google.com',
    'fonts.gstatic.com',
    'cdn.jsdelivr.net',
    'objects.githubusercontent.com',
    'api.openai.com',
    'login.microsoftonline.com',
    'update.googleapis.com',
    'www.youtube.com',
    'i.ytimg.com',
    'slack.com',
    'edge.microsoft.com',
    'dl.google.com',
    'proxy.golang.org',
    'index.docker.io',
    'production.cloudflare.docker.com',
    'ghcr.io',
    'deb.debian.org',
    'security.ubuntu.com',
    's3.amazonaws.com',
    'sentry.io',
    'www.wikipedia.org',
    'news.ycombinator.com',
    'stackoverflow.com',
    'tracking.example-ads.net',
    'telemetry.example.org',
    'mirror.example.edu',
  ],
  1.1,
);
const METHODS = new Weighted<string>([
  ['GET', 70],
  ['POST', 18],
  ['CONNECT', 8],
  ['PUT', 2],
  ['DELETE', 1],
  ['HEAD', 1],
]);
const STATUSES = new Weighted<number>([
  [200, 78],
  [204, 4],
  [301, 3],
  [304, 6],
  [403, 3],
  [404, 4],
  [500, 1],
  [502, 1],
]);
const PATHS = [
  '/',
  '/v1/chat/completions',
  '/simple/requests/',
  '/repos/nodejs/node/releases',
  '/watch',
  '/static/app.js',
  '/api/v2/items',
  '/favicon.ico',
];
const BROWSER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'pip/24.3.1 {"ci":null,"cpu":"x86_64"}',
  'npm/10.9.0 node/v20.18.0 linux x64',
  'Go-http-client/1.1',
];
const PLAYER_AGENTS = ['VLC/3.0.21 LibVLC/3.0.21', 'TiviMate/5.1.6', 'IPTVSmartersPro/3.1.5', 'Kodi/21.1', 'okhttp/4.12.0'];
const STREAMS = Array.from({ length: 200 }, (_, i) => `stream-${i + 1}`);
const COUNTRIES = ['DE', 'FR', 'NL', 'GB', 'US', 'TR', 'PL', 'ES', 'IT', 'BR'];
const XUI_ACTIONS = new Weighted<readonly [string, string]>([
  [['user.login', 'Logged in to the panel'], 35],
  [['line.create', 'Created line'], 15],
  [['line.edit', 'Edited line'], 20],
  [['line.extend', 'Extended line by 1 month'], 15],
  [['line.delete', 'Deleted line'], 5],
  [['bouquet.edit', 'Edited bouquet'], 5],
  [['mag.create', 'Added MAG device'], 5],
]);
const DISCONNECT_REASONS = ['client closed', 'timeout', 'line expired', 'max connections', 'stream restarted'];

// ---- time -----------------------------------------------------------------------------------

/**
 * Maps a fraction of the run to a time in [START, NOW) along a realistic traffic curve: a daily
 * cycle peaking in the European afternoon, quieter weekends and 30 % growth over the month.
 */
class TrafficCurve {
  private readonly cumulative: Float64Array;
  private readonly weights: Float64Array;
  private readonly total: number;
  constructor() {
    const hours = SPAN_DAYS * 24;
    this.weights = new Float64Array(hours);
    this.cumulative = new Float64Array(hours + 1);
    for (let h = 0; h < hours; h++) {
      const at = new Date(START + h * HOUR);
      const daily = 1 + 0.6 * Math.sin((2 * Math.PI * (at.getUTCHours() - 8)) / 24);
      const weekly = at.getUTCDay() === 0 || at.getUTCDay() === 6 ? 0.75 : 1;
      const growth = 1 + (0.3 * h) / hours;
      this.weights[h] = daily * weekly * growth;
      this.cumulative[h + 1] = (this.cumulative[h] as number) + (this.weights[h] as number);
    }
    this.total = this.cumulative[hours] as number;
  }
  /** `fraction` in [0, 1); monotone. */
  timeAt(fraction: number): number {
    const target = fraction * this.total;
    let lo = 0;
    let hi = this.weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.cumulative[mid] as number) <= target) lo = mid;
      else hi = mid - 1;
    }
    const within = (target - (this.cumulative[lo] as number)) / (this.weights[lo] as number);
    return Math.min(NOW - 1, START + lo * HOUR + Math.floor(Math.min(0.999999, within) * HOUR));
  }
}

// ---- generator ------------------------------------------------------------------------------

/** Generates event `index` of a run of `total`. */
export interface EventGenerator {
  readonly total: number;
  readonly seed: number;
  /** The time of event `index` (events are in time order). */
  timeOf(index: number): number;
  /** Events `[from, from + count)`. */
  batch(from: number, count: number): EventInput[];
  /** An event newer than every generated one, for live writers (k = 0, 1, …). */
  live(k: number): EventInput;
}

/** Creates the generator for a run of `total` events. */
export function createGenerator(total: number, seed = DEFAULT_SEED): EventGenerator {
  const curve = new TrafficCurve();
  const timeOf = (index: number) => {
    const jitter = new Rng(hash32(seed, index)).next();
    return curve.timeAt((index + jitter) / total);
  };
  const make = (index: number, time: number): EventInput => {
    // A separate stream from the jitter above, so the time does not correlate with the content.
    const rng = new Rng(hash32(seed ^ 0x5bd1e995, index));
    const tenantId = tenantWeights.sample(rng);
    const family = rng.next();
    if (family < 0.5) return newApiEvent(rng, time, tenantId);
    if (family < 0.8) return proxyEvent(rng, time, tenantId);
    return xuiEvent(rng, time, tenantId);
  };
  return {
    total,
    seed,
    timeOf,
    batch(from, count) {
      const events: EventInput[] = new Array(count);
      for (let i = 0; i < count; i++) events[i] = make(from + i, timeOf(from + i));
      return events;
    },
    live(k) {
      return make(total + k, NOW + k);
    },
  };
}

function clientIp(rng: Rng, tenantId: string): string {
  const t = Number(tenantId.slice(-2));
  return rng.chance(0.7) ? `10.${t}.${rng.int(4)}.${rng.range(2, 254)}` : `203.0.${113 + (t % 3)}.${rng.range(1, 254)}`;
}

function newApiEvent(rng: Rng, time: number, tenantId: string): EventInput {
  const userIndex = rng.int(USER_NAMES.length);
  const userName = USER_NAMES[userIndex] as string;
  const userId = `${tenantId}:u${userIndex + 1}`;
  const tokenName = `${userName}-${TOKEN_SUFFIXES[rng.int(userIndex % 3 === 0 ? 3 : 2)]}`;
  const [modelName, modelRatio, completionRatio] = MODELS.sample(rng);
  const [group, groupRatio] = GROUPS.sample(rng);
  const channel = 1 + rng.int(12);
  const requestId = rng.hex(24);
  const ip = clientIp(rng, tenantId);
  const userAgent = rng.pick(SDK_AGENTS);
  const base = {
    time,
    tenantId,
    actor: { id: userId, type: 'user', name: userName },
    target: { type: 'token', id: `${tenantId}:${tokenName}`, name: tokenName },
    ip,
    userAgent,
  };
  const roll = rng.next();
  if (roll < 0.96) {
    const promptTokens = rng.logNormal(6.5, 1.2);
    const completionTokens = rng.logNormal(5.3, 1.0);
    const quota = Math.max(1, Math.round((promptTokens + completionTokens * completionRatio) * modelRatio * groupRatio));
    const useTime = 1 + Math.floor((completionTokens / 60) * (0.5 + rng.next()));
    const stream = rng.chance(0.7);
    return {
      ...base,
      type: 'llm.consumption',
      category: 'consumption',
      action: 'chat.completions',
      outcome: 'success',
      severity: 'info',
      message: `模型倍率 ${modelRatio.toFixed(2)}，补全倍率 ${completionRatio.toFixed(2)}，分组倍率 ${groupRatio.toFixed(2)}`,
      durationMs: useTime * 1000 + rng.int(1000),
      dimensions: { token_name: tokenName, model_name: modelName, channel, group },
      metrics: { quota, prompt_tokens: promptTokens, completion_tokens: completionTokens, use_time: useTime },
      data: {
        isStream: stream,
        requestId,
        other: {
          model_ratio: modelRatio,
          completion_ratio: completionRatio,
          group_ratio: groupRatio,
          frt: stream ? rng.range(200, 4000) : -1,
        },
      },
    };
  }
  if (roll < 0.995) {
    const statusCode = rng.pick([400, 401, 429, 429, 500, 502, 503]);
    return {
      ...base,
      type: 'llm.error',
      category: 'error',
      action: 'chat.completions',
      outcome: 'failure',
      severity: 'error',
      message: `upstream error: status code ${statusCode}, channel #${channel}`,
      durationMs: rng.range(50, 30_000),
      dimensions: { token_name: tokenName, model_name: modelName, channel, group },
      metrics: { prompt_tokens: 0, completion_tokens: 0, quota: 0 },
      data: { requestId, statusCode, upstream: `channel-${channel}` },
    };
  }
  const amount = rng.pick([500_000, 1_000_000, 5_000_000]);
  return {
    ...base,
    type: 'llm.topup',
    category: 'topup',
    action: 'topup',
    outcome: 'success',
    severity: 'info',
    message: `充值成功，额度 ${amount}`,
    target: { type: 'user', id: userId, name: userName },
    metrics: { quota: amount },
    data: { method: rng.pick(['card', 'redeem', 'admin'] as const) },
  };
}

function proxyEvent(rng: Rng, time: number, tenantId: string): EventInput {
  const method = METHODS.sample(rng);
  const host = HOSTS.sample(rng);
  const blocked = host.includes('tracking') || host.includes('telemetry');
  const status = blocked ? 403 : STATUSES.sample(rng);
  const path = method === 'CONNECT' ? '' : rng.pick(PATHS);
  const scheme = method === 'CONNECT' || rng.chance(0.9) ? 'https' : 'http';
  const clientIndex = rng.int(40);
  const bytes = status === 304 || status === 204 ? 0 : rng.logNormal(9, 2);
  return {
    type: 'proxy.request',
    time,
    tenantId,
    category: 'access',
    action: method.toLowerCase(),
    outcome: blocked ? 'BLOCKED' : status >= 400 ? 'ERROR' : 'ALLOWED',
    severity: status >= 500 ? 'error' : status >= 400 ? 'warning' : 'info',
    message: `${method} ${method === 'CONNECT' ? `${host}:443` : `${scheme}://${host}${path}`} ${status}`,
    actor: { id: `${tenantId}:client${clientIndex}`, type: 'client', name: `client${clientIndex}` },
    target: { type: 'host', id: host, name: host },
    ip: clientIp(rng, tenantId),
    userAgent: rng.pick(BROWSER_AGENTS),
    durationMs: rng.logNormal(4.5, 1.3),
    dimensions: { method, destination: host, status },
    metrics: { bytes },
    data: { path, scheme },
  };
}

function xuiEvent(rng: Rng, time: number, tenantId: string): EventInput {
  const resellerIndex = rng.int(8);
  const lineIndex = rng.int(500);
  const actor = { id: `${tenantId}:r${resellerIndex}`, type: 'reseller', name: `reseller${resellerIndex}` };
  const line = { type: 'line', id: `${tenantId}:line${lineIndex}`, name: `line${lineIndex}` };
  const roll = rng.next();
  if (roll < 0.3) {
    const [action, text] = XUI_ACTIONS.sample(rng);
    return {
      type: 'xui.activity',
      time,
      tenantId,
      category: 'activity',
      action,
      outcome: 'success',
      severity: 'info',
      message: `${text} ${line.name}`,
      actor,
      target: line,
      ip: clientIp(rng, tenantId),
      data: { details: `${action} via panel` },
    };
  }
  const stream = rng.pick(STREAMS);
  const sessionId = `${tenantId}:s${hash32(lineIndex, Math.floor(time / HOUR)).toString(36)}`;
  const client = {
    actor: { id: line.id, type: 'line', name: line.name },
    target: { type: 'stream', id: stream, name: stream },
    tenantId,
    time,
    ip: clientIp(rng, tenantId),
    userAgent: rng.pick(PLAYER_AGENTS),
    sessionId,
  };
  if (roll < 0.6) {
    return {
      ...client,
      type: 'xui.client.connect',
      category: 'client',
      action: 'connect',
      outcome: 'success',
      severity: 'info',
      message: `${line.name} started ${stream}`,
      data: { container: rng.pick(['ts', 'm3u8', 'rtmp'] as const), country: rng.pick(COUNTRIES) },
    };
  }
  if (roll < 0.9) {
    const seconds = rng.logNormal(7, 1.5);
    return {
      ...client,
      type: 'xui.client.disconnect',
      category: 'client',
      action: 'disconnect',
      outcome: 'success',
      severity: 'info',
      message: `${line.name} stopped ${stream} after ${seconds}s`,
      durationMs: seconds * 1000,
      metrics: { bytes: seconds * rng.range(200_000, 900_000) },
      data: { reason: rng.pick(DISCONNECT_REASONS) },
    };
  }
  const credits = rng.chance(0.8) ? -rng.pick([1, 3, 6, 12]) : rng.pick([25, 50, 100.5]);
  return {
    type: 'xui.credit',
    time,
    tenantId,
    category: 'credit',
    action: credits < 0 ? 'line.purchase' : 'credits.add',
    outcome: 'success',
    severity: 'info',
    message: credits < 0 ? `Spent ${-credits} credits on ${line.name}` : `Added ${credits} credits`,
    actor,
    target: line,
    metrics: { credits },
    data: { reason: credits < 0 ? 'line purchase' : 'manual top-up', balanceAfter: Math.round(rng.next() * 100_000) / 100 },
  };
}
