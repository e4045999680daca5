import { createHandler, xuiOne } from '@eventlog/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listen, shapeMismatches } from '../../testing/profile-test-kit.js';

import { admin, at, authenticate, CODE, call, handler, KEY, log, reseller, T, theirs, useXuiFixture } from './fixture.js';

useXuiFixture();

// Every request example of seeds/xui-one-logs-events-api.md, with its response example where the seed has one.
const EXAMPLES: { query: string; example: unknown }[] = [
  {
    query: 'action=activity_logs&limit=50',
    example: {
      status: 'STATUS_SUCCESS',
      data: [
        {
          id: '1',
          user_id: '1',
          username: 'admin',
          action: 'edit_line',
          details: 'Modified line ID 123',
          ip_address: '192.168.1.100',
          timestamp: '1734048000',
        },
      ],
    },
  },
  {
    query: 'action=live_connections',
    example: {
      status: 'STATUS_SUCCESS',
      data: [
        {
          line_id: '123',
          username: 'testuser',
          stream_id: '456',
          stream_name: 'CNN HD',
          ip_address: '203.0.113.45',
          user_agent: 'VLC/3.0.11',
          started_at: '1734048000',
          duration: '3600',
        },
      ],
    },
  },
  {
    query: 'action=credit_logs&user_id=5',
    example: {
      status: 'STATUS_SUCCESS',
      data: [
        {
          id: '1',
          user_id: '5',
          username: 'reseller1',
          action: 'add_credits',
          amount: '100.00',
          balance_after: '500.00',
          description: 'Credit purchase',
          timestamp: '1734048000',
        },
      ],
    },
  },
  {
    query: 'action=client_logs&line_id=123',
    example: {
      status: 'STATUS_SUCCESS',
      data: [
        {
          line_id: '123',
          username: 'testuser',
          ip_address: '203.0.113.45',
          user_agent: 'Kodi/19.4',
          connection_type: 'm3u8',
          timestamp: '1734048000',
        },
      ],
    },
  },
  // No response example in the seed: shaped like activity_logs (documented choice).
  {
    query: 'action=user_logs',
    example: {
      status: 'STATUS_SUCCESS',
      data: [
        {
          id: '7',
          user_id: '5',
          username: 'reseller1',
          action: 'create_line',
          details: 'Created line 125',
          ip_address: '198.51.100.7',
          timestamp: '1734048000',
        },
      ],
    },
  },
  {
    query: 'action=stream_errors&stream_id=456',
    example: {
      status: 'STATUS_SUCCESS',
      data: [
        {
          stream_id: '456',
          stream_name: 'CNN HD',
          error_type: 'source_offline',
          error_message: 'Connection refused to source',
          timestamp: '1734048000',
          duration: '120',
        },
      ],
    },
  },
  {
    query: 'action=watch_output&stream_id=456',
    example: {
      status: 'STATUS_SUCCESS',
      data: {
        stream_id: '456',
        bitrate: '4500 kbps',
        resolution: '1920x1080',
        fps: '30',
        codec: 'H.264',
        audio_codec: 'AAC',
        buffer_health: 'good',
      },
    },
  },
  // No response example in the seed (documented choice).
  {
    query: 'action=system_logs&limit=50',
    example: {
      status: 'STATUS_SUCCESS',
      data: [{ id: '12', level: 'warning', action: 'disk', details: 'Disk 90% full', timestamp: '1734048000' }],
    },
  },
  {
    query: 'action=login_logs&success=0',
    example: {
      status: 'STATUS_SUCCESS',
      data: [{ username: 'admin', ip_address: '203.0.113.45', success: '0', failure_reason: 'Invalid password', timestamp: '1734048000' }],
    },
  },
  // No response example in the seed (documented choice).
  {
    query: 'action=restream_logs',
    example: {
      status: 'STATUS_SUCCESS',
      data: [
        {
          id: '15',
          user_id: '5',
          username: 'reseller1',
          stream_id: '456',
          stream_name: 'CNN HD',
          ip_address: '198.51.100.9',
          action: 'restream_start',
          timestamp: '1734048000',
        },
      ],
    },
  },
  {
    query: 'action=mag_events&mag_id=202',
    example: {
      status: 'STATUS_SUCCESS',
      data: [
        {
          mag_id: '202',
          mac: '00:1A:79:XX:XX:XX',
          event_type: 'channel_change',
          details: 'Changed to channel CNN HD',
          ip_address: '203.0.113.45',
          timestamp: '1734048000',
        },
      ],
    },
  },
];

describe('xui-one: the seed examples over a real socket', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    server = await listen((request) => handler(request));
  });
  afterAll(async () => {
    await server.close();
  });

  for (const { query, example } of EXAMPLES) {
    it(`?${query}`, async () => {
      const response = await fetch(`${server.base}/${CODE}/?api_key=${KEY}&${query}`);
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(shapeMismatches(body, example)).toEqual([]);
      const rows = Array.isArray(body.data) ? body.data : [body.data];
      expect(rows.length).toBeGreaterThan(0);
      // Every value is a string, as the clients expect.
      for (const row of rows) for (const value of Object.values(row)) expect(typeof value).toBe('string');
      // The rows the seed's example describes are the ones answered.
      const expected = (example as { data: unknown }).data;
      const first = Array.isArray(expected) ? expected[0] : expected;
      const { id: _id, ...withoutId } = first as Record<string, string>;
      expect(rows[0]).toMatchObject(withoutId);
    });
  }

  it('accepts a POST with a form body, like the panel', async () => {
    const response = await fetch(`${server.base}/${CODE}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `api_key=${KEY}&action=mag_events&mag_id=202`,
    });
    expect((await response.json()).data).toHaveLength(1);
  });
});

describe('xui-one paging and filters', () => {
  it('defaults to limit 100 offset 0 and accepts start for offset', async () => {
    expect((await admin('action=activity_logs')).body.data).toHaveLength(2);
    expect((await admin('action=activity_logs&limit=1')).body.data.map((r: { action: string }) => r.action)).toEqual(['edit_line']);
    expect((await admin('action=activity_logs&limit=1&offset=1')).body.data.map((r: { action: string }) => r.action)).toEqual([
      'delete_line',
    ]);
    expect((await admin('action=activity_logs&limit=1&start=1')).body.data.map((r: { action: string }) => r.action)).toEqual([
      'delete_line',
    ]);
    expect((await admin('action=activity_logs&offset=5')).body.data).toEqual([]);
    expect((await admin('action=login_logs&success=1')).body.data.map((r: { success: string }) => r.success)).toEqual(['1']);
    expect((await admin('action=login_logs')).body.data).toHaveLength(2);
    expect((await admin('action=live_connections')).body.data).toHaveLength(2);
    expect((await call(`api_key=${KEY}&action=activity_logs`, undefined, `/${CODE}`)).body.data).toHaveLength(2);
  });

  it('masks ip addresses when asked to', async () => {
    const masked = createHandler({ log, profiles: [xuiOne({ accessCode: CODE, authenticate, maskIp: true })] });
    const r = await (await masked(new Request(`http://x/${CODE}/?api_key=${KEY}&action=live_connections`))).json();
    expect(r.data.map((c: { ip_address: string }) => c.ip_address)).toEqual(['203.0.113.0', '']);
  });

  it('reads watch_output from the newest state of that stream', async () => {
    await log.record({
      type: 'xui.stream.output',
      time: at(T + 5),
      target: { type: 'stream', id: '457' },
      data: { bitrate: '1 kbps' },
      ...theirs,
    });
    expect((await admin('action=watch_output&stream_id=456')).body.data.buffer_health).toBe('good');
    const missing = await admin('action=watch_output&stream_id=999');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ status: 'STATUS_FAILURE', error: 'No output has been recorded for stream 999.' });
    expect((await admin('action=watch_output')).body).toEqual({ status: 'STATUS_FAILURE', error: 'stream_id is required.' });
  });
});

describe('xui-one authorization matrix', () => {
  const actions = EXAMPLES.map((e) => e.query);

  it('answers anonymous and wrong keys with STATUS_FAILURE "Invalid API key." on every action', async () => {
    for (const query of actions) {
      for (const auth of ['', 'api_key=', 'api_key=WRONG', `api_key=${KEY.toLowerCase()}`, `api_key=${KEY}x`]) {
        const r = await call(`${auth}&${query}`);
        expect(r.status, `${auth} ${query}`).toBe(401);
        expect(r.body).toEqual({ status: 'STATUS_FAILURE', error: 'Invalid API key.' });
      }
    }
  });

  it('shows a reseller only its own tenant on every action, while the admin sees all', async () => {
    const everything = [
      'action=activity_logs',
      'action=credit_logs',
      'action=client_logs',
      'action=stream_errors',
      'action=live_connections',
    ];
    for (const query of everything) {
      const all = await admin(query);
      const own = await reseller(query);
      expect(all.body.data.length, query).toBe(2);
      expect(own.body.data.length, query).toBe(1);
    }
    expect((await reseller('action=credit_logs&user_id=6')).body.data).toEqual([]);
    expect((await reseller('action=stream_errors&stream_id=457')).body.data).toEqual([]);
    expect((await reseller('action=client_logs&line_id=124')).body.data).toEqual([]);
    await log.record({
      type: 'xui.stream.output',
      time: at(T + 5),
      target: { type: 'stream', id: '457' },
      data: { bitrate: '1 kbps' },
      ...theirs,
    });
    expect((await reseller('action=watch_output&stream_id=457')).status).toBe(404);
    for (const query of actions) expect((await reseller(query)).body.status, query).toBe('STATUS_SUCCESS');
  });
});
