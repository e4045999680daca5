import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StartedExample, scratchDirectory, startExample, stopWithBufferedEvents } from '@eventlog/example-shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const directory = fileURLToPath(new URL('..', import.meta.url));
const scratch = scratchDirectory('new-api');
const admin = { Authorization: 'Bearer demo-admin-token', 'New-Api-User': '1', 'Content-Type': 'application/json' };
const user = { Authorization: 'Bearer demo-user-token', 'New-Api-User': '2', 'Content-Type': 'application/json' };

let example: StartedExample;
beforeAll(async () => {
  example = await startExample({ directory, env: { EVENTLOG_DB: join(scratch.path, 'new-api.db'), EVENTLOG_LIVE_MS: '500' } });
});
afterAll(async () => {
  await example?.stop('SIGKILL');
  scratch.remove();
});

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const response = await fetch(example.url + path, { method, headers });
  return { status: response.status, body: await response.json() };
}

const itemShape = {
  id: expect.any(Number),
  user_id: expect.any(Number),
  created_at: expect.any(Number),
  type: expect.any(Number),
  content: expect.any(String),
  model_name: expect.any(String),
  quota: expect.any(Number),
};

describe('examples/new-api', () => {
  it('answers the seed document: token query, self stat/list/search', async () => {
    const token = await get('/api/log/token?key=demo-token-key');
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ success: true, message: '' });
    expect(token.body.data.length).toBeGreaterThan(0);
    expect(token.body.data[0]).toMatchObject(itemShape);
    expect(token.body.data.every((row: { token_name: string }) => row.token_name === 'api_token')).toBe(true);

    // The document's own example, verbatim (its 2021 time range holds nothing), and a current one.
    const docStat = await get(
      '/api/log/self/stat?type=2&start_timestamp=1640908800&end_timestamp=1640995200&token_name=api_token&model_name=gpt-4&group=default',
      user,
    );
    expect(docStat.body).toMatchObject({ success: true, data: { quota: 0, rpm: expect.any(Number), tpm: expect.any(Number) } });
    const stat = await get('/api/log/self/stat?type=2&token_name=api_token&model_name=gpt-4&group=default', user);
    expect(stat.body.data.quota).toBeGreaterThan(0);

    const self = await get('/api/log/self?p=1&page_size=20&type=2&token_name=api_token&model_name=gpt-4&group=default', user);
    expect(self.body.data).toMatchObject({ total: expect.any(Number), page: 1, page_size: 20 });
    expect(self.body.data.total).toBeGreaterThanOrEqual(25);
    expect(self.body.data.items).toHaveLength(20);
    expect(self.body.data.items.every((row: { user_id: number }) => row.user_id === 2)).toBe(true);
    const verbatim = await get(
      '/api/log/self?p=1&page_size=20&type=2&start_timestamp=1640908800&end_timestamp=1640995200&token_name=api_token&model_name=gpt-4&group=default',
      user,
    );
    expect(verbatim.body).toMatchObject({ success: true, data: { items: [], total: 0, page: 1, page_size: 20 } });

    const search = await get('/api/log/self/search?keyword=gpt-4', user);
    expect(search.body.success).toBe(true);
    expect(search.body.data.length).toBeGreaterThan(0);
  });

  it('answers the admin endpoints, with RPM and TPM from live traffic', async () => {
    const all = await get(
      '/api/log/?p=1&page_size=20&type=2&username=testuser&token_name=api_token&model_name=gpt-4&channel=1&group=default',
      admin,
    );
    expect(all.body.data.total).toBeGreaterThanOrEqual(25);
    expect(all.body.data.items[0]).toMatchObject({
      ...itemShape,
      username: 'testuser',
      channel_id: 1,
      is_stream: expect.any(Boolean),
      other: expect.any(String),
    });

    const stat = await get('/api/log/stat?type=2', admin);
    expect(stat.body.data.quota).toBeGreaterThan(0);
    expect(stat.body.data.rpm).toBeGreaterThan(0);
    expect(stat.body.data.tpm).toBeGreaterThan(0);

    const errors = await get('/api/log/search?keyword=error', admin);
    expect(errors.body.data.length).toBeGreaterThan(0);
    expect(errors.body.data[0]).toMatchObject({
      id: expect.any(Number),
      type: expect.any(Number),
      content: expect.any(String),
      username: expect.any(String),
    });

    const sessions = await get('/api/log/?type=5&p=1&page_size=100', admin);
    const fromBruteForcer = sessions.body.data.items.filter((row: { ip: string }) => row.ip === '203.0.113.66');
    expect(fromBruteForcer.length).toBeGreaterThanOrEqual(10);

    const missing = await get('/api/log/', admin, 'DELETE');
    expect(missing.body).toEqual({ success: false, message: 'target timestamp is required' });
    const before = (await get('/api/log/?p=1&page_size=1', admin)).body.data.total;
    const cutoff = Math.floor(Date.now() / 1000) - 3 * 86_400;
    const deleted = await get(`/api/log/?target_timestamp=${cutoff}`, admin, 'DELETE');
    expect(deleted.body.success).toBe(true);
    expect(deleted.body.data).toBeGreaterThan(0);
    const after = (await get('/api/log/?p=1&page_size=1', admin)).body.data.total;
    expect(after).toBeLessThanOrEqual(before - deleted.body.data + 50);
  });

  it('keeps users out of admin endpoints and strangers out of everything', async () => {
    expect(await get('/api/log/stat', user)).toMatchObject({ status: 200, body: { success: false } });
    expect(await get('/api/log/self', { Authorization: 'Bearer wrong', 'New-Api-User': '2' })).toMatchObject({
      status: 401,
      body: { success: false },
    });
    expect(await get('/api/log/self', { Authorization: 'Bearer demo-user-token', 'New-Api-User': '1' })).toMatchObject({ status: 401 });
    expect(await get('/api/log/token?key=nope')).toMatchObject({ status: 401, body: { success: false } });
  });

  it('flushes buffered events on SIGTERM and exits 0', async () => {
    const result = await stopWithBufferedEvents(directory, join(scratch.path, 'shutdown.db'));
    expect(result.code, result.output).toBe(0);
    expect(result.buffered).toBeGreaterThan(0);
    expect(result.after).toBe(result.before + Number(/\((\d+) written since start\)/.exec(result.output)?.[1]));
    expect(result.after).toBeGreaterThan(result.before);
  });
});
