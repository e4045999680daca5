/**
 * The XUI.ONE example as a module: the `/<access_code>/?api_key=…&action=…` profile with
 * credentials from the environment, the demo data (open viewer connections, credits, stream errors
 * and outputs, logins with a brute-forcing address, MAG events), live traffic and the banner.
 */
import type { EventInput, EventLog } from '@eventlog/core';
import { ascendingTimes, type ExampleModule, env, type Random, recordInChunks, shellQuote } from '@eventlog/example-shared';
import { XUI_ONE_TYPES as T, xuiApiKeys, xuiOne, xuiOnePreset } from '@eventlog/http';

/** Demo credentials; each can be replaced through its environment variable. */
export function xuiCredentials() {
  return {
    accessCode: env('XUI_ACCESS_CODE', 'cSbuFLhp'),
    apiKey: env('XUI_API_KEY', '8D3135D30437F86EAE2FA4A2A8345000'),
    resellerKey: env('XUI_RESELLER_API_KEY', 'demo-reseller-key'),
  };
}

interface Reseller {
  id: string;
  name: string;
}
const ADMIN = { id: '1', name: 'admin' };
const RESELLERS: Reseller[] = [
  { id: '5', name: 'reseller1' },
  { id: '6', name: 'reseller2' },
  { id: '7', name: 'reseller3' },
];
const LINES = Array.from({ length: 24 }, (_, i) => ({
  id: String(123 + i),
  name: i === 0 ? 'testuser' : `line${String(123 + i)}`,
  reseller: RESELLERS[i % RESELLERS.length]!,
}));
const STREAMS = [
  { id: '456', name: 'CNN HD', resolution: '1920x1080', bitrate: 4500 },
  { id: '457', name: 'BBC One HD', resolution: '1920x1080', bitrate: 5000 },
  { id: '458', name: 'ESPN', resolution: '1280x720', bitrate: 3500 },
  { id: '459', name: 'Sky Sports 1', resolution: '1920x1080', bitrate: 6000 },
  { id: '460', name: 'HBO', resolution: '1920x1080', bitrate: 5500 },
  { id: '461', name: 'Discovery', resolution: '1280x720', bitrate: 3000 },
];
const MAGS = Array.from({ length: 6 }, (_, i) => ({ id: String(202 + i), mac: `00:1A:79:00:00:${(0xca + i).toString(16).toUpperCase()}` }));
const VIEWER_IPS = ['203.0.113.45', '203.0.113.46', '198.51.100.23', '198.51.100.24', '192.0.2.10', '192.0.2.77', '203.0.113.99'];
const PLAYERS = ['VLC/3.0.11', 'Kodi/19.4 (Linux; Android 11)', 'TiviMate/4.7.0', 'IPTVSmartersPro/3.1.5', 'Lavf/58.76.100'];
const BRUTE_FORCE_IP = '198.51.100.77';
const ERRORS = [
  ['source_offline', 'Connection refused to source'],
  ['source_timeout', 'No data from source for 30 seconds'],
  ['transcode_failed', 'ffmpeg exited with code 1'],
  ['bitrate_drop', 'Input bitrate below 500 kbps'],
] as const;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function panelAction(random: Random, time: number): EventInput {
  const reseller = random.pick(RESELLERS);
  const line = random.pick(LINES);
  const byAdmin = random.chance(0.5);
  const who = byAdmin ? ADMIN : reseller;
  const [action, details] = random.pick([
    ['edit_line', `Modified line ID ${line.id}`],
    ['add_line', `Created line ${line.name}`],
    ['delete_line', `Deleted line ID ${line.id}`],
    ['edit_bouquet', 'Updated bouquet Sports'],
    ['extend_line', `Extended line ID ${line.id} by 30 days`],
    ['edit_stream', `Modified stream ${random.pick(STREAMS).name}`],
  ] as const);
  return {
    type: byAdmin ? T.activity : T.user,
    time,
    tenantId: reseller.id,
    actor: { type: 'user', id: who.id, name: who.name },
    action,
    message: details,
    ip: byAdmin ? '192.168.1.100' : random.pick(VIEWER_IPS),
  };
}

function credit(random: Random, time: number, balance: Map<string, number>): EventInput {
  const reseller = random.pick(RESELLERS);
  const add = random.chance(0.4);
  const amount = add ? random.int(5, 50) * 10 : random.int(1, 12);
  const next = Math.max(0, (balance.get(reseller.id) ?? 400) + (add ? amount : -amount));
  balance.set(reseller.id, next);
  return {
    type: T.credit,
    time,
    tenantId: reseller.id,
    actor: { type: 'user', id: reseller.id, name: reseller.name },
    action: add ? 'add_credits' : 'line_purchase',
    message: add ? 'Credit purchase' : `1 month line for ${random.pick(LINES).name}`,
    metrics: { amount, balance_after: next },
  };
}

function client(random: Random, time: number): EventInput {
  const line = random.pick(LINES);
  return {
    type: T.client,
    time,
    tenantId: line.reseller.id,
    actor: { type: 'line', id: line.id, name: line.name },
    ip: random.pick(VIEWER_IPS),
    userAgent: random.pick(PLAYERS),
    data: { connection_type: random.pick(['m3u8', 'ts', 'hls', 'rtmp']) },
  };
}

function streamError(random: Random, time: number, stream = random.pick(STREAMS)): EventInput {
  const [kind, text] = random.pick(ERRORS);
  return {
    type: T.streamError,
    time,
    target: { type: 'stream', id: stream.id, name: stream.name },
    action: kind,
    message: text,
    durationMs: random.int(5, 600) * 1000,
  };
}

function output(random: Random, time: number, stream: (typeof STREAMS)[number]): EventInput {
  return {
    type: T.streamOutput,
    time,
    target: { type: 'stream', id: stream.id, name: stream.name },
    data: {
      bitrate: `${stream.bitrate + random.int(-300, 300)} kbps`,
      resolution: stream.resolution,
      fps: random.pick(['25', '30', '50']),
      codec: 'H.264',
      audio_codec: 'AAC',
      buffer_health: random.pick(['good', 'good', 'good', 'fair']),
    },
  };
}

function misc(random: Random, time: number): EventInput {
  const roll = random.int(0, 3);
  if (roll === 0) {
    const [action, severity, text] = random.pick([
      ['cron', 'info', 'Cron finished: 1423 lines checked'],
      ['disk_usage', 'warning', 'Disk usage on /home/xui is at 86%'],
      ['server_restart', 'info', 'Load balancer LB-2 restarted'],
      ['db_error', 'error', 'MySQL server has gone away (reconnected)'],
    ] as const);
    return { type: T.system, time, action, severity, message: text };
  }
  if (roll === 1) {
    const reseller = random.pick(RESELLERS);
    const stream = random.pick(STREAMS);
    return {
      type: T.restream,
      time,
      tenantId: reseller.id,
      actor: { type: 'user', id: reseller.id, name: reseller.name },
      target: { type: 'stream', id: stream.id, name: stream.name },
      ip: random.pick(VIEWER_IPS),
      action: random.pick(['restream_start', 'restream_stop']),
    };
  }
  if (roll === 2) {
    const mag = random.pick(MAGS);
    const channel = random.pick(STREAMS).name;
    const [kind, details] = random.pick([
      ['channel_change', `Changed to channel ${channel}`],
      ['boot', 'Device booted, portal loaded'],
      ['epg_reload', 'EPG reloaded'],
    ] as const);
    return {
      type: T.mag,
      time,
      target: { type: 'mag', id: mag.id, name: mag.mac },
      action: kind,
      message: details,
      ip: random.pick(VIEWER_IPS),
    };
  }
  const who = random.pick([ADMIN, ...RESELLERS]);
  const ok = random.chance(0.8);
  return {
    type: T.login,
    time,
    tenantId: who === ADMIN ? null : who.id,
    actor: { type: 'user', id: who.id, name: who.name },
    ip: ok ? '192.168.1.100' : random.pick(VIEWER_IPS),
    outcome: ok ? 'success' : 'failure',
    message: ok ? null : 'Invalid password',
  };
}

function* rows(random: Random, size: number, now: number): Generator<EventInput> {
  const balance = new Map<string, number>();
  for (const time of ascendingTimes(size, () => now - random.int(MINUTE, 7 * DAY))) {
    const roll = random.next();
    yield roll < 0.3
      ? client(random, time)
      : roll < 0.5
        ? panelAction(random, time)
        : roll < 0.6
          ? credit(random, time, balance)
          : roll < 0.7
            ? streamError(random, time)
            : misc(random, time);
  }
  // The documents' own examples: reseller1's credits, testuser's client log, CNN HD's errors, MAG 202.
  for (let i = 0; i < 6; i++)
    yield { ...credit(random, now - (6 - i) * 5 * HOUR, balance), tenantId: '5', actor: { type: 'user', id: '5', name: 'reseller1' } };
  for (let i = 0; i < 5; i++)
    yield { ...client(random, now - i * 11 * MINUTE), tenantId: '5', actor: { type: 'line', id: '123', name: 'testuser' } };
  // A flapping source: more than ten errors for one stream in the last day.
  for (let i = 0; i < 12; i++) yield streamError(random, now - i * 90 * MINUTE - random.int(0, 20) * MINUTE, STREAMS[0]);
  // Mass deletion by one admin, and a brute-forcing address trying the admin login.
  for (let i = 0; i < 12; i++) {
    yield {
      type: T.activity,
      time: now - 2 * HOUR + i * 20_000,
      tenantId: '6',
      actor: { type: 'user', id: '1', name: 'admin' },
      action: 'delete_line',
      message: `Deleted line ID ${500 + i}`,
      ip: '192.168.1.100',
    };
  }
  for (let i = 0; i < 14; i++) {
    yield {
      type: T.login,
      time: now - 30 * MINUTE + i * 45_000,
      actor: { type: 'user', name: 'admin' },
      ip: BRUTE_FORCE_IP,
      outcome: 'failure',
      message: 'Invalid password',
    };
  }
  for (let i = 0; i < 3; i++) {
    yield {
      type: T.mag,
      time: now - i * MINUTE,
      target: { type: 'mag', id: '202', name: MAGS[0]!.mac },
      action: 'channel_change',
      message: 'Changed to channel CNN HD',
      ip: '203.0.113.45',
    };
  }
  for (const stream of STREAMS) yield output(random, now - random.int(5, 60) * 1000, stream);
}

let sessionCounter = 0;

async function openConnection(
  log: EventLog,
  random: Random,
  time: number,
  line = random.pick(LINES),
  ip = random.pick(VIEWER_IPS),
): Promise<void> {
  const stream = random.pick(STREAMS);
  await log.sessions.open({
    type: T.connectionOpen,
    time,
    sessionId: `conn-${time}-${sessionCounter++}`,
    tenantId: line.reseller.id,
    actor: { type: 'line', id: line.id, name: line.name },
    target: { type: 'stream', id: stream.id, name: stream.name },
    ip,
    userAgent: random.pick(PLAYERS),
  });
}

/** The XUI.ONE example module. */
export const xuiOneExample: ExampleModule = {
  name: 'xui-one',
  presets: [xuiOnePreset],
  profiles() {
    const { accessCode, apiKey, resellerKey } = xuiCredentials();
    return [
      xuiOne({
        accessCode,
        authenticate: xuiApiKeys([
          { key: apiKey, principal: { role: 'admin' } },
          { key: resellerKey, principal: { role: 'reseller', id: '5', tenantIds: ['5'] } },
        ]),
      }),
    ];
  },
  async seed({ log, size, now, random }) {
    let count = await recordInChunks(log, rows(random, size, now));
    // Open viewer connections (live_connections); line 123 watches from two addresses (sharing).
    await openConnection(log, random, now - 50 * MINUTE, LINES[0], '203.0.113.45');
    await openConnection(log, random, now - 20 * MINUTE, LINES[0], '198.51.100.23');
    for (let i = 0; i < 14; i++) await openConnection(log, random, now - random.int(1, 180) * MINUTE);
    count += 16;
    return count;
  },
  async live({ log, random, tick }) {
    const now = Date.now();
    const open = await log.sessions.list({ filter: { type: T.connectionOpen }, limit: 100 });
    // Keep about sixteen viewers: one leaves, one arrives.
    if (open.length > 12) {
      const leaving = random.pick(open);
      await log.sessions.close(leaving.sessionId, { type: T.connectionClose, time: now });
    }
    await openConnection(log, random, now);
    const stream = random.pick(STREAMS);
    await log.recordMany([client(random, now), output(random, now, stream), ...(tick % 5 === 0 ? [streamError(random, now)] : [])]);
  },
  banner(base) {
    const { accessCode, apiKey, resellerKey } = xuiCredentials();
    const url = (query: string) => shellQuote(`${base}/${accessCode}/?api_key=${apiKey}&${query}`);
    return [
      `XUI.ONE (/${accessCode}/?api_key=…&action=…): XUI_ACCESS_CODE=${accessCode}, admin XUI_API_KEY=${apiKey}, reseller 5 XUI_RESELLER_API_KEY=${resellerKey}`,
      `  curl ${url('action=activity_logs&limit=50')}`,
      `  curl ${url('action=live_connections')}`,
      `  curl ${url('action=credit_logs&user_id=5')}`,
      `  curl ${url('action=client_logs&line_id=123')}`,
      `  curl ${url('action=user_logs')}`,
      `  curl ${url('action=stream_errors&stream_id=456')}`,
      `  curl ${url('action=watch_output&stream_id=456')}`,
      `  curl ${url('action=system_logs&limit=50')}`,
      `  curl ${url('action=login_logs&success=0')}`,
      `  curl ${url('action=restream_logs')}`,
      `  curl ${url('action=mag_events&mag_id=202')}`,
      '',
    ];
  },
};
