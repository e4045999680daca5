// The seeded log, handler and request helpers that the XUI.ONE profile's test files share.
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventInput } from '@eventlog/core';
import { type AnyEventLog, createHandler, type Handler, xuiApiKeys, xuiOne, xuiOnePreset } from '@eventlog/http';
import { afterEach, beforeEach } from 'vitest';
import { send } from '../../testing/profile-test-kit.js';

export const T = 1_734_048_000; // the seed's timestamp
export const NOW = T + 3600;
export const CODE = 'cSbuFLhp';
export const KEY = '8D3135D30437F86EAE2FA4A2A8345000';
export const RESELLER_KEY = 'RESELLER5KEY0000000000000000000000';

export const authenticate = xuiApiKeys([
  { key: KEY, principal: { role: 'admin' } },
  { key: RESELLER_KEY, principal: { role: 'reseller', id: '5', tenantIds: ['5'] } },
]);

export const at = (seconds: number) => seconds * 1000;
export const mine = { tenantId: '5' };
export const theirs = { tenantId: '6' };

export const EVENTS: EventInput[] = [
  {
    type: 'xui.activity',
    time: at(T),
    actor: { id: '1', name: 'admin' },
    action: 'edit_line',
    message: 'Modified line ID 123',
    ip: '192.168.1.100',
    ...mine,
  },
  {
    type: 'xui.activity',
    time: at(T - 60),
    actor: { id: '1', name: 'admin' },
    action: 'delete_line',
    message: 'Deleted line ID 9',
    ip: '192.168.1.100',
    ...theirs,
  },
  {
    type: 'xui.credit',
    time: at(T),
    actor: { id: '5', name: 'reseller1' },
    action: 'add_credits',
    message: 'Credit purchase',
    metrics: { amount: 100, balance_after: 500 },
    ...mine,
  },
  {
    type: 'xui.credit',
    time: at(T - 10),
    actor: { id: '6', name: 'reseller2' },
    action: 'add_credits',
    message: 'Other purchase',
    metrics: { amount: 7.5, balance_after: 7.5 },
    ...theirs,
  },
  {
    type: 'xui.client',
    time: at(T),
    actor: { id: '123', type: 'line', name: 'testuser' },
    ip: '203.0.113.45',
    userAgent: 'Kodi/19.4',
    data: { connection_type: 'm3u8' },
    ...mine,
  },
  {
    type: 'xui.client',
    time: at(T - 5),
    actor: { id: '124', type: 'line', name: 'otheruser' },
    ip: '203.0.113.46',
    userAgent: 'VLC',
    data: { connection_type: 'ts' },
    ...theirs,
  },
  {
    type: 'xui.user',
    time: at(T),
    actor: { id: '5', name: 'reseller1' },
    action: 'create_line',
    message: 'Created line 125',
    ip: '198.51.100.7',
    ...mine,
  },
  {
    type: 'xui.stream.error',
    time: at(T),
    target: { type: 'stream', id: '456', name: 'CNN HD' },
    action: 'source_offline',
    message: 'Connection refused to source',
    durationMs: 120_000,
    ...mine,
  },
  {
    type: 'xui.stream.error',
    time: at(T - 30),
    target: { type: 'stream', id: '457', name: 'BBC' },
    action: 'timeout',
    message: 'Source timed out',
    durationMs: 30_000,
    ...theirs,
  },
  {
    type: 'xui.stream.output',
    time: at(T - 100),
    target: { type: 'stream', id: '456', name: 'CNN HD' },
    data: { bitrate: '3000 kbps', resolution: '1280x720', fps: 25, codec: 'H.264', audio_codec: 'AAC', buffer_health: 'poor' },
    ...mine,
  },
  {
    type: 'xui.stream.output',
    time: at(T),
    target: { type: 'stream', id: '456', name: 'CNN HD' },
    data: { bitrate: '4500 kbps', resolution: '1920x1080', fps: 30, codec: 'H.264', audio_codec: 'AAC', buffer_health: 'good' },
    ...mine,
  },
  { type: 'xui.system', time: at(T), severity: 'warning', action: 'disk', message: 'Disk 90% full', ...mine },
  {
    type: 'xui.login',
    time: at(T),
    actor: { name: 'admin' },
    ip: '203.0.113.45',
    outcome: 'failure',
    message: 'Invalid password',
    ...mine,
  },
  { type: 'xui.login', time: at(T - 1), actor: { name: 'admin' }, ip: '203.0.113.45', outcome: 'success', ...mine },
  {
    type: 'xui.restream',
    time: at(T),
    actor: { id: '5', name: 'reseller1' },
    target: { type: 'stream', id: '456', name: 'CNN HD' },
    ip: '198.51.100.9',
    action: 'restream_start',
    ...mine,
  },
  {
    type: 'xui.mag',
    time: at(T),
    target: { type: 'mag', id: '202', name: '00:1A:79:XX:XX:XX' },
    action: 'channel_change',
    message: 'Changed to channel CNN HD',
    ip: '203.0.113.45',
    ...mine,
  },
];

export let log: AnyEventLog;
export let handler: Handler;

/** Registers the hooks that give each test a fresh seeded log and handler. */
export function useXuiFixture(): void {
  beforeEach(async () => {
    log = createEventLog({ store: createSqliteStore(), presets: [xuiOnePreset], clock: () => at(NOW) });
    handler = createHandler({ log, profiles: [xuiOne({ accessCode: CODE, authenticate })] });
    await log.recordMany(EVENTS);
    await log.sessions.open({
      type: 'xui.connection.open',
      sessionId: 'c1',
      time: at(T),
      actor: { id: '123', type: 'line', name: 'testuser' },
      target: { type: 'stream', id: '456', name: 'CNN HD' },
      ip: '203.0.113.45',
      userAgent: 'VLC/3.0.11',
      ...mine,
    });
    await log.sessions.open({
      type: 'xui.connection.open',
      sessionId: 'c2',
      time: at(T + 600),
      actor: { id: '124', name: 'otheruser' },
      target: { id: '457', name: 'BBC' },
      ...theirs,
    });
  });
  afterEach(async () => {
    await log.close();
  });
}

export const call = async (query: string, init?: RequestInit, path = `/${CODE}/`) => {
  const response = await send(handler, `http://your-server.com${path}?${query}`, init);
  return { ...response, body: JSON.parse(response.text) };
};
export const admin = (query: string) => call(`api_key=${KEY}&${query}`);
export const reseller = (query: string) => call(`api_key=${RESELLER_KEY}&${query}`);
