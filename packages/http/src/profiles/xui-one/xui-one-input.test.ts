import { describe, expect, it } from 'vitest';
import { ENVELOPES, expectRefusal } from '../../testing/profile-test-kit.js';
import { admin, CODE, call, handler, KEY, useXuiFixture } from './fixture.js';

useXuiFixture();

describe('xui-one bad input', () => {
  const hostile = [
    ['action=activity_logs&limit=-1', 400],
    ['action=activity_logs&limit=0', 400],
    ['action=activity_logs&limit=abc', 400],
    ['action=activity_logs&limit=1e3', 400],
    ['action=activity_logs&limit=99999999999999999999', 400],
    ['action=activity_logs&limit=1001', 400],
    ['action=activity_logs&offset=-1', 400],
    ['action=activity_logs&offset=100001', 400],
    ['action=activity_logs&start=x', 400],
    ["action=credit_logs&user_id=5' OR '1'='1", 400],
    ['action=client_logs&line_id=%25', 400],
    ['action=stream_errors&stream_id=%3Cb%3E', 400],
    ['action=stream_errors&stream_id=_', 400],
    ['action=mag_events&mag_id=<script>', 400],
    ['action=user_logs&user_id=-1', 400],
    ['action=login_logs&success=2', 400],
    ['action=login_logs&success=true', 400],
    ['action=nope', 400],
    ['action=', 400],
    ['', 400],
    ['action=ACTIVITY_LOGS', 400],
    ['action=__proto__', 400],
    ['action=toString', 400],
    [`action=activity_logs&details=${'x'.repeat(300)}`, 400],
  ] as const;

  it('answers every hostile request with a 4xx STATUS_FAILURE body', async () => {
    for (const [query, status] of hostile) {
      const r = await admin(query);
      expect(r.status, query).toBe(status);
      expectRefusal(r, ENVELOPES.xuiOne, query);
      expect(r.body.status, query).toBe('STATUS_FAILURE');
      expect(typeof r.body.error, query).toBe('string');
      expect(Object.keys(r.body).sort()).toEqual(['error', 'status']);
    }
    expect((await admin('action=nope')).body.error).toBe('Invalid action.');
    // Wildcard characters that pass the id pattern are compared literally, never as LIKE patterns.
    for (const query of ['action=stream_errors&stream_id=4_6', 'action=mag_events&mag_id=20.']) {
      expect((await admin(query)).body, query).toEqual({ status: 'STATUS_SUCCESS', data: [] });
    }
  });

  it('answers wrong paths, methods and oversized bodies in the same envelope', async () => {
    const put = await handler(new Request(`http://x/${CODE}/?api_key=${KEY}&action=activity_logs`, { method: 'PUT' }));
    expect(put.status).toBe(405);
    expect(await put.json()).toMatchObject({ status: 'STATUS_FAILURE' });
    const deeper = await call(`api_key=${KEY}&action=activity_logs`, undefined, `/${CODE}/index.php`);
    expect(deeper).toMatchObject({ status: 404, body: { status: 'STATUS_FAILURE' } });
    const big = await handler(
      new Request(`http://x/${CODE}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `api_key=${KEY}&action=activity_logs&pad=${'x'.repeat(100_000)}`,
      }),
    );
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ status: 'STATUS_FAILURE' });
    const json = await handler(
      new Request(`http://x/${CODE}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"api_key":' }),
    );
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ status: 'STATUS_FAILURE' });
    const other = await handler(new Request(`http://x/WRONGCODE/?api_key=${KEY}&action=activity_logs`));
    expect(other.status).toBe(404);
  });
});
