import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StartedExample, scratchDirectory, startExample, stopWithBufferedEvents } from '@eventlog/example-shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const directory = fileURLToPath(new URL('..', import.meta.url));
const scratch = scratchDirectory('unifi');
const headers = { Authorization: 'Bearer demo-unifi-token', accept: 'application/json', 'content-type': 'application/json' };

let example: StartedExample;
beforeAll(async () => {
  example = await startExample({ directory, env: { EVENTLOG_DB: join(scratch.path, 'unifi.db') } });
});
afterAll(async () => {
  await example?.stop('SIGKILL');
  scratch.remove();
});

async function post(path: string, body: unknown, auth = headers) {
  const response = await fetch(example.url + path, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text.startsWith('{') ? JSON.parse(text) : null };
}

const now = () => Math.floor(Date.now() / 1000);

describe('examples/unifi-access', () => {
  it("answers the seed's fetch example: hits with actor, event, authentication and targets", async () => {
    // The document's request, verbatim: its 2023 window holds nothing, but the envelope is the same.
    const verbatim = await post('/api/v1/developer/system/logs?page_size=1&page_num=25', {
      topic: 'door_openings',
      since: 1690770546,
      until: 1690771546,
      actor_id: '3e1f196e-c97b-4748-aecb-eab5e9c251b2',
    });
    expect(verbatim.status).toBe(200);
    expect(verbatim.body).toMatchObject({ code: 'SUCCESS', data: { hits: [], total: 0 } });

    const page = await post('/api/v1/developer/system/logs?page_size=25&page_num=1', {
      topic: 'door_openings',
      since: now() - 7 * 86_400,
      until: now(),
    });
    expect(page.body.code).toBe('SUCCESS');
    expect(page.body.data.hits).toHaveLength(25);
    expect(page.body.total).toBe(page.body.data.total);
    const hit = page.body.data.hits[0];
    expect(hit).toMatchObject({
      '@timestamp': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      _id: expect.any(String),
      tag: 'access',
      _source: {
        actor: { id: expect.any(String), type: 'user', display_name: expect.any(String) },
        event: { type: 'access.door.unlock', result: expect.stringMatching(/^(ACCESS|BLOCKED)$/), published: expect.any(Number) },
        authentication: { credential_provider: expect.any(String) },
      },
    });
    expect(hit._source.target.map((t: { type: string }) => t.type)).toEqual(expect.arrayContaining(['UAH', 'door', 'floor', 'building']));

    const ada = await post('/api/v1/developer/system/logs?page_size=50', {
      topic: 'door_openings',
      actor_id: '3e1f196e-c97b-4748-aecb-eab5e9c251b2',
    });
    expect(ada.body.data.hits.length).toBeGreaterThanOrEqual(5);
    expect(
      ada.body.data.hits.every(
        (h: { _source: { actor: { id: string } } }) => h._source.actor.id === '3e1f196e-c97b-4748-aecb-eab5e9c251b2',
      ),
    ).toBe(true);

    const blocked = (
      await post('/api/v1/developer/system/logs?page_size=200', { topic: 'door_openings', since: now() - 3 * 3600 })
    ).body.data.hits.filter(
      (h: { _source: { event: { result: string; display_message: string } } }) =>
        h._source.event.display_message === 'Access Denied / Unknown (PIN_CODE)',
    );
    expect(blocked.length).toBeGreaterThanOrEqual(12);
  });

  it('serves every topic, the CSV export in a time zone, and activity resources', async () => {
    for (const topic of ['all', 'critical', 'updates', 'device_events', 'admin_activity', 'visitor']) {
      const answer = await post('/api/v1/developer/system/logs', { topic });
      expect(answer.body.code, topic).toBe('SUCCESS');
      expect(answer.body.data.total, topic).toBeGreaterThan(0);
    }
    const csv = await post('/api/v1/developer/system/logs/export', {
      topic: 'door_openings',
      since: now() - 7 * 86_400,
      until: now(),
      timezone: 'America/New_York',
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/filename=/);
    expect(csv.text.trim().split(/\r?\n/).length).toBeGreaterThan(10);
    expect(csv.text).toMatch(/-0[45]:00|EST|EDT/);

    const withClip = await post('/api/v1/developer/system/logs?page_size=1000', { topic: 'door_openings' });
    const clip = withClip.body.data.hits
      .flatMap((h: { _source: { target: { type: string; id: string }[] } }) => h._source.target)
      .find((t: { type: string }) => t.type === 'activities_resource');
    expect(clip).toBeDefined();
    const resource = await fetch(`${example.url}/api/v1/developer/system/logs/resource/${clip.id}`, { headers });
    expect(await resource.json()).toMatchObject({ code: 'SUCCESS', data: { video_record: expect.stringContaining('.mp4') } });
    const avatar = await fetch(`${example.url}/api/v1/developer/system/static/avatar/dalaceb6-20ba-4285-a6b1-c4f2bf7161f8`, { headers });
    expect(avatar.headers.get('content-type')).toBe('image/png');
  });

  it('refuses missing or wrong tokens and bad topics in its own envelope', async () => {
    expect(
      (await post('/api/v1/developer/system/logs', { topic: 'door_openings' }, { ...headers, Authorization: 'Bearer nope' })).body.code,
    ).not.toBe('SUCCESS');
    const bad = await post('/api/v1/developer/system/logs', { topic: 'doors' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'CODE_PARAMS_INVALID', msg: expect.any(String) });
  });

  it('flushes buffered events on SIGTERM and exits 0', async () => {
    const result = await stopWithBufferedEvents(directory, join(scratch.path, 'shutdown.db'));
    expect(result.code, result.output).toBe(0);
    expect(result.buffered).toBeGreaterThan(0);
    expect(result.after).toBe(result.before + Number(/\((\d+) written since start\)/.exec(result.output)?.[1]));
  });
});
