/**
 * The MediaCP example as a module: Stream Events with admin, reseller and customer tokens from the
 * environment, a month of service, source, DJ, AutoDJ and mount events (DJs on air as open
 * sessions, automated suspensions, a DJ password being guessed from one address), live traffic
 * and the banner. The example keeps 30 days, like the panel.
 */
import type { EventInput, EventLog } from '@eventlog/core';
import { ascendingTimes, type ExampleModule, env, type Random, recordInChunks, shellQuote } from '@eventlog/example-shared';
import { type MediaCpEventType, mediaCp, mediaCpPreset, mediaCpTokens } from '@eventlog/http';

/** Demo credentials; each can be replaced through its environment variable. */
export function mediaCpCredentials() {
  return {
    admin: env('MEDIACP_ADMIN_TOKEN', 'demo-mediacp-admin'),
    reseller: env('MEDIACP_RESELLER_TOKEN', 'demo-mediacp-reseller'),
    customer: env('MEDIACP_CUSTOMER_TOKEN', 'demo-mediacp-customer'),
  };
}

/** Reseller 7 owns customers 40 and 41; customer 40 is the customer token's user. */
const CUSTOMERS = [
  { id: '40', name: 'Acme FM' },
  { id: '41', name: 'Beat Radio' },
  { id: '42', name: 'Campus Radio' },
  { id: '43', name: 'Night Owl TV' },
];
const SERVICES = [
  { id: '12', name: 'Radio One', customer: CUSTOMERS[0]! },
  { id: '13', name: 'Acme Jazz', customer: CUSTOMERS[0]! },
  { id: '14', name: 'Beat Radio Main', customer: CUSTOMERS[1]! },
  { id: '15', name: 'Campus Live', customer: CUSTOMERS[2]! },
  { id: '16', name: 'Night Owl TV', customer: CUSTOMERS[3]! },
];
type Service = (typeof SERVICES)[number];
const DJS = ['DJ Nova', 'DJ Kilo', 'MC Echo', 'DJ Ray', 'Selecta Mia'];
const DJ_IPS = ['203.0.113.9', '198.51.100.40', '192.0.2.55', '203.0.113.120'];
const GUESSING_IP = '203.0.113.66';
const TITLES = ['Miles Davis - So What', 'Daft Punk - Around the World', 'Nina Simone - Feeling Good', 'Massive Attack - Teardrop'];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function event(type: MediaCpEventType, service: Service, time: number, extra: Partial<EventInput> = {}): EventInput {
  return {
    type: `mediacp.${type}`,
    time,
    tenantId: service.customer.id,
    target: { type: 'service', id: service.id, name: service.name },
    dimensions: { customer_name: service.customer.name },
    actor: { type: 'user', id: service.customer.id, name: service.customer.name },
    ...extra,
  };
}

const system = { type: 'system', id: 'system', name: 'System' };

function random1(random: Random, time: number): EventInput {
  const service = random.pick(SERVICES);
  const dj = random.pick(DJS);
  const djActor = { type: 'dj', id: dj.toLowerCase().replace(/\s+/g, '-'), name: dj };
  switch (random.int(0, 11)) {
    case 0:
      return event(random.pick(['service.start', 'service.stop', 'service.restart'] as const), service, time, {
        message: 'Service control from the dashboard',
      });
    case 1:
      return event('service.config_update', service, time, {
        message: 'Service settings updated',
        data: { changes: { bitrate: random.pick([64, 128, 192, 320]), max_listeners: random.pick([100, 250, 500]) } },
      });
    case 2:
      return event('service.title_update', service, time, { message: 'Song title changed', data: { title: random.pick(TITLES) } });
    case 3:
      return event(random.pick(['source.start', 'source.stop', 'source.restart'] as const), service, time, { message: 'Source control' });
    case 4:
    case 5:
      return event('dj.connect', service, time, {
        actor: djActor,
        ip: random.pick(DJ_IPS),
        message: `${dj} connected`,
        data: { takeover: random.chance(0.3) },
      });
    case 6:
      return event('dj.disconnect', service, time, { actor: djActor, ip: random.pick(DJ_IPS), message: `${dj} disconnected` });
    case 7:
      return event('dj.on_air', service, time, {
        actor: djActor,
        ip: random.pick(DJ_IPS),
        message: `${dj} is on air (takeover)`,
        data: { takeover: true },
      });
    case 8:
      return event('autodj.on_air', service, time, {
        actor: system,
        message: 'AutoDJ resumed control',
        data: { reason: 'live DJ disconnected' },
      });
    case 9:
      return event(random.pick(['mount.connect', 'mount.disconnect'] as const), service, time, {
        actor: system,
        message: 'Mount hook',
        data: { mount: random.pick(['/live', '/autodj', '/stream.mp3']) },
      });
    case 10:
      return event('system.bitrate_warning', service, time, {
        actor: system,
        message: 'Source bitrate above the plan limit',
        data: { reason: 'bitrate 320 kbps > 192 kbps' },
      });
    default:
      return event(random.pick(['system.suspend', 'system.stop'] as const), service, time, {
        actor: system,
        message: random.pick(['Suspended: bandwidth limit reached', 'Stopped: account expired', 'Suspended: disk quota exceeded']),
        data: { reason: 'automated' },
      });
  }
}

function* rows(random: Random, size: number, now: number): Generator<EventInput> {
  // Within the 30-day retention, so the first maintenance pass keeps everything.
  for (const time of ascendingTimes(size, () => now - random.int(MINUTE, 29 * DAY))) yield random1(random, time);
  // Someone guessing DJ passwords on Radio One from one address: kicked again and again.
  for (let i = 0; i < 15; i++) {
    yield event('dj.kicked', SERVICES[0]!, now - 3 * HOUR + i * 40_000, {
      actor: { type: 'dj', id: 'unknown', name: 'unknown' },
      ip: GUESSING_IP,
      message: 'DJ kicked: invalid DJ password',
      data: { reason: 'authentication failed' },
    });
  }
  // Today's story of Radio One: restart, config change, AutoDJ, then a live takeover.
  const one = SERVICES[0]!;
  yield event('service.restart', one, now - 2 * HOUR, { message: 'Service restarted from the dashboard' });
  yield event('service.config_update', one, now - 110 * MINUTE, {
    message: 'Service settings updated',
    data: { changes: { bitrate: 192 } },
  });
  yield event('autodj.on_air', one, now - 100 * MINUTE, { actor: system, message: 'AutoDJ on air at startup' });
  yield event('mount.connect', one, now - 100 * MINUTE, { actor: system, message: 'Mount connected', data: { mount: '/autodj' } });
}

async function djGoesLive(log: EventLog, random: Random, service: Service, time: number, dj = random.pick(DJS)): Promise<void> {
  const actor = { type: 'dj', id: dj.toLowerCase().replace(/\s+/g, '-'), name: dj };
  await log.sessions.open({
    ...event('dj.connect', service, time, {
      actor,
      ip: random.pick(DJ_IPS),
      message: `${dj} connected`,
      data: { takeover: true, mount: '/live' },
    }),
    sessionId: `dj-${service.id}-${time}`,
  });
}

/** The MediaCP example module. */
export const mediaCpExample: ExampleModule = {
  name: 'mediacp',
  presets: [mediaCpPreset],
  profiles() {
    const tokens = mediaCpCredentials();
    return [
      mediaCp({
        authenticate: mediaCpTokens([
          { token: tokens.admin, role: 'admin', name: 'admin' },
          { token: tokens.reseller, role: 'reseller', id: '7', customerIds: ['40', '41'], name: 'Demo Reseller' },
          { token: tokens.customer, role: 'customer', id: '40', name: 'Acme FM' },
        ]),
        timeZone: env('MEDIACP_TIME_ZONE', 'UTC'),
      }),
    ];
  },
  async seed({ log, size, now, random }) {
    const count = await recordInChunks(log, rows(random, size, now));
    // DJs on air right now (open sessions), each with its takeover event.
    await djGoesLive(log, random, SERVICES[0]!, now - 25 * MINUTE, 'DJ Nova');
    await djGoesLive(log, random, SERVICES[2]!, now - 70 * MINUTE);
    await djGoesLive(log, random, SERVICES[4]!, now - 5 * MINUTE);
    await log.record(
      event('dj.on_air', SERVICES[0]!, now - 25 * MINUTE + 2000, {
        actor: { type: 'dj', id: 'dj-nova', name: 'DJ Nova' },
        message: 'DJ Nova is on air (takeover)',
        data: { takeover: true },
      }),
    );
    return count + 4;
  },
  async live({ log, random }) {
    const now = Date.now();
    await log.record(
      event('service.title_update', random.pick(SERVICES), now, { message: 'Song title changed', data: { title: random.pick(TITLES) } }),
    );
    const onAir = await log.sessions.list({ filter: { type: 'mediacp.dj.connect' }, limit: 50 });
    if (onAir.length > 3) {
      const leaving = random.pick(onAir);
      await log.sessions.close(leaving.sessionId, { type: 'mediacp.dj.disconnect', message: `${leaving.event.actor.name} disconnected` });
    } else {
      await djGoesLive(log, random, random.pick(SERVICES), now);
    }
  },
  banner(base) {
    const tokens = mediaCpCredentials();
    const as = (token: string) => `-H ${shellQuote(`Authorization: Bearer ${token}`)}`;
    const today = new Date().toISOString().slice(0, 10);
    const weekAgo = new Date(Date.now() - 7 * DAY).toISOString().slice(0, 10);
    return [
      'MediaCP Stream Events (/controller/EventLog…): MEDIACP_ADMIN_TOKEN, MEDIACP_RESELLER_TOKEN (reseller 7: customers 40, 41),',
      `  MEDIACP_CUSTOMER_TOKEN (customer 40, services 12 and 13) = ${tokens.admin} / ${tokens.reseller} / ${tokens.customer}`,
      `  curl ${as(tokens.admin)} ${shellQuote(`${base}/controller/EventLog?category=dj&page=1&per_page=25`)}`,
      `  curl ${as(tokens.admin)} ${shellQuote(`${base}/controller/EventLog/12?category=all&date_from=${weekAgo}&date_to=${today}`)}`,
      `  curl ${as(tokens.admin)} ${shellQuote(`${base}/controller/EventLog?event_type=dj.kicked&service_id=12`)}`,
      `  curl ${as(tokens.reseller)} ${shellQuote(`${base}/controller/EventLog?category=service`)}`,
      `  curl ${as(tokens.customer)} ${shellQuote(`${base}/controller/EventLog/12`)}`,
      `  curl ${as(tokens.admin)} -o stream-events.csv ${shellQuote(`${base}/controller/EventLog/export?category=dj&date_from=${weekAgo}`)}`,
      '',
    ];
  },
};
