import { describe, expect, it } from 'vitest';
import { ENVELOPES, expectRefusal } from '../../testing/profile-test-kit.js';
import { admin, call, headers, log, useNewApiFixture, user } from './fixture.js';

useNewApiFixture();

describe('new-api bad input', () => {
  const list = ['/api/log/', '/api/log/self'];
  const bad = [
    'p=abc',
    'p=1.5',
    'p=99999999999999999999',
    'page_size=ten',
    'type=-1',
    'type=two',
    'type=99999',
    'start_timestamp=yesterday',
    'start_timestamp=-5',
    'end_timestamp=99999999999999',
    'channel=-1',
    'channel=one',
    `token_name=${'x'.repeat(300)}`,
    'p=1&p=2',
    'p=100000&page_size=100',
  ];

  it('answers malformed list and stat parameters with 400 success:false', async () => {
    for (const path of [...list, '/api/log/stat', '/api/log/self/stat']) {
      for (const query of bad) {
        if (path.includes('stat') && /^p=|page_size/.test(query)) continue;
        const r = await (path.includes('self') ? user : admin)(`${path}?${query}`);
        expect(r.status, `${path}?${query}`).toBe(400);
        expectRefusal(r, ENVELOPES.newApi, `${path}?${query}`);
        expect(r.body.success).toBe(false);
        expect(typeof r.body.message).toBe('string');
      }
    }
  });

  it('treats SQL and wildcard characters as plain text', async () => {
    for (const value of ["' OR 1=1 --", '%', '_', '%25', '\\', '"; DROP TABLE x; --']) {
      const q = encodeURIComponent(value);
      expect((await admin(`/api/log/?username=${q}&token_name=${q}`)).body.data.total, value).toBe(0);
      expect((await admin(`/api/log/search?keyword=${q}`)).body.data, value).toEqual([]);
      expect((await user(`/api/log/self/search?keyword=${q}`)).body.success).toBe(true);
      expect((await call(`/api/log/token?key=${q}`)).status).toBe(401);
    }
    expect((await admin(`/api/log/search?keyword=${'x'.repeat(201)}`)).status).toBe(400);
    expect(await log.count()).toBe(12);
  });

  it('answers bad delete timestamps, wrong methods, unknown paths and bodies with 4xx envelopes', async () => {
    for (const query of ['target_timestamp=abc', 'target_timestamp=-1', 'target_timestamp=1e10', 'target_timestamp=999999999999999']) {
      const r = await admin(`/api/log/?${query}`, 'DELETE');
      expect(r.status, query).toBe(400);
      expect(r.body.success).toBe(false);
    }
    const post = await admin('/api/log/', 'POST');
    expect(post.status).toBe(405);
    expect(post.body).toEqual({ success: false, message: 'POST is not supported on /api/log/; use GET, DELETE.' });
    expect((await admin('/api/log/nope')).body).toEqual({ success: false, message: 'Nothing is served at /api/log/nope.' });
    const big = await call('/api/log/?target_timestamp=1', {
      method: 'DELETE',
      headers: headers('admin-token', 100),
      body: 'x'.repeat(2_000_000),
    });
    expect(big.status).toBe(413);
    expect(big.body.success).toBe(false);
    expect(await log.count()).toBe(12);
  });
});
