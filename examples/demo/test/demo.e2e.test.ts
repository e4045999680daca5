import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StartedExample, scratchDirectory, startExample, stopWithBufferedEvents } from '@eventlog/example-shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const directory = fileURLToPath(new URL('..', import.meta.url));
const scratch = scratchDirectory('demo');
const native = { Authorization: 'Bearer demo-eventlog-token' };
const proxy = { Authorization: `Basic ${Buffer.from('admin:demo-password').toString('base64')}` };

let example: StartedExample;
beforeAll(async () => {
  example = await startExample({ directory, env: { EVENTLOG_DB: join(scratch.path, 'demo.db'), EVENTLOG_SEED_EVENTS: '100' } });
});
afterAll(async () => {
  await example?.stop('SIGKILL');
  scratch.remove();
});

async function json(path: string, init: RequestInit = {}) {
  const response = await fetch(example.url + path, init);
  return { status: response.status, body: await response.json() };
}

describe('examples/demo', () => {
  it('serves all five product APIs at their own paths from one app', async () => {
    const newApi = await json('/api/log/stat?type=2', { headers: { Authorization: 'Bearer demo-admin-token', 'New-Api-User': '1' } });
    expect(newApi.body).toMatchObject({ success: true, data: { quota: expect.any(Number) } });
    expect(newApi.body.data.quota).toBeGreaterThan(0);

    const xui = await json('/cSbuFLhp/?api_key=8D3135D30437F86EAE2FA4A2A8345000&action=live_connections');
    expect(xui.body.status).toBe('STATUS_SUCCESS');
    expect(xui.body.data.length).toBeGreaterThan(0);

    const mediacp = await json('/controller/EventLog?category=dj', { headers: { Authorization: 'Bearer demo-mediacp-admin' } });
    expect(mediacp.body.total).toBeGreaterThan(0);

    const unifi = await json('/api/v1/developer/system/logs', {
      method: 'POST',
      headers: { Authorization: 'Bearer demo-unifi-token', 'Content-Type': 'application/json' },
      body: '{"topic":"door_openings"}',
    });
    expect(unifi.body.data.total).toBeGreaterThan(0);

    const logs = await json('/api/logs?limit=5', { headers: proxy });
    expect(logs.body.total).toBeGreaterThan(0);
    // Each product reads only its own event types from the shared log.
    expect(logs.body.total).toBeLessThan((await json('/eventlog/stats', { headers: native })).body.data.count);
  });

  it('serves the native API: ingest, query, sessions, OpenAPI', async () => {
    const created = await json('/eventlog/events', {
      method: 'POST',
      headers: { ...native, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'app.deploy', message: 'v1.2.3', actor: { id: 'ci' } }),
    });
    expect(created.status).toBe(201);
    const listed = await json('/eventlog/events?type=app.deploy', { headers: native });
    expect(listed.body.data[0]).toMatchObject({ type: 'app.deploy', message: 'v1.2.3' });
    const sessions = await json('/eventlog/sessions', { headers: native });
    const types = new Set(sessions.body.data.map((s: { type: string }) => s.type));
    expect(types).toEqual(new Set(['xui.connection.open', 'mediacp.dj.connect']));
    const openapi = await json('/eventlog/openapi.json');
    expect(openapi.body.openapi).toMatch(/^3\.1/);
    expect((await json('/eventlog/events')).status).toBe(401);
  });

  it('prints a ready viewer link whose token reads the native API, and serves the page', async () => {
    const link = /(http:\/\/\S+\/eventlog\/viewer)#token=(\S+)/.exec(example.output());
    expect(link, example.output()).not.toBeNull();
    const [, page, token] = link!;
    const html = await fetch(page!.replace('//localhost:', '//127.0.0.1:'));
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await html.text()).toContain('data-api="/eventlog"');
    const whoami = await json('/eventlog/whoami', { headers: { Authorization: `Bearer ${token}` } });
    expect(whoami.body.data).toMatchObject({ principal: { role: 'admin' }, readOnly: true });
    expect(whoami.body.data.expiresAt).toBeGreaterThan(Date.now());
    // The viewer's token reads but never writes.
    const write = await json('/eventlog/events', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{"type":"app.deploy"}',
    });
    expect(write.status).toBe(403);
  });

  it("records the host app's own requests and audit rows for the proxy API", async () => {
    await (await fetch(`${example.url}/hello/world`, { headers: { 'User-Agent': 'demo-e2e' } })).text();
    const saved = await json('/settings/retention', {
      method: 'POST',
      headers: { 'x-user': 'alice', 'Content-Type': 'application/json' },
      body: '{"value":30}',
    });
    expect(saved.body).toEqual({ status: 'success' });
    let row: { destination: string; status: string } | undefined;
    for (let i = 0; i < 50 && !row; i++) {
      const found = await json(`/api/logs?limit=5&search=${encodeURIComponent('/hello/:name')}`, { headers: proxy });
      row = found.body.data[0];
      if (!row) await new Promise((r) => setTimeout(r, 100));
    }
    expect(row).toMatchObject({ destination: expect.stringMatching(/\/hello\/:name$/), status: '200 OK' });
    const audit = await json('/api/audit-log?limit=1', { headers: proxy });
    expect(audit.body.data[0]).toMatchObject({
      username: 'alice',
      action: 'update_settings',
      target: 'retention',
      details: 'Set retention to 30',
    });
  });

  it('flushes buffered events on SIGTERM and exits 0', async () => {
    const result = await stopWithBufferedEvents(directory, join(scratch.path, 'shutdown.db'));
    expect(result.code, result.output).toBe(0);
    expect(result.buffered).toBeGreaterThan(0);
    expect(result.after).toBe(result.before + Number(/\((\d+) written since start\)/.exec(result.output)?.[1]));
  });
});
