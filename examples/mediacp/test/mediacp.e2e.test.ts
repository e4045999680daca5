import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StartedExample, scratchDirectory, startExample, stopWithBufferedEvents } from '@eventlog/example-shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const directory = fileURLToPath(new URL('..', import.meta.url));
const scratch = scratchDirectory('mediacp');
const tokens = { admin: 'demo-mediacp-admin', reseller: 'demo-mediacp-reseller', customer: 'demo-mediacp-customer' };

let example: StartedExample;
beforeAll(async () => {
  example = await startExample({ directory, env: { EVENTLOG_DB: join(scratch.path, 'mediacp.db') } });
});
afterAll(async () => {
  await example?.stop('SIGKILL');
  scratch.remove();
});

async function get(path: string, token = tokens.admin) {
  const response = await fetch(example.url + path, { headers: { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text,
    body: text.startsWith('{') ? JSON.parse(text) : null,
  };
}

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('examples/mediacp', () => {
  it('serves the global and per-service event logs with categories, types, dates and pages', async () => {
    const dj = await get('/controller/EventLog?category=dj&page=1&per_page=25');
    expect(dj.status).toBe(200);
    expect(dj.body).toMatchObject({ success: true, page: 1, total: expect.any(Number), totalPages: expect.any(Number) });
    expect(dj.body.logs).toHaveLength(25);
    expect(dj.body.logs.every((row: { category: string }) => row.category === 'dj')).toBe(true);
    expect(dj.body.logs[0]).toMatchObject({
      service_id: expect.anything(),
      event_type: expect.stringMatching(/^dj\./),
      created_at_formatted: expect.any(String),
    });

    for (const category of ['service', 'mount', 'source', 'autodj']) {
      const page = await get(`/controller/EventLog?category=${category}`);
      expect(page.body.total, category).toBeGreaterThan(0);
    }

    const week = await get(`/controller/EventLog/12?category=all&date_from=${day(-7)}&date_to=${day(0)}`);
    expect(week.body.total).toBeGreaterThan(0);
    expect(week.body.logs.every((row: { service_id: unknown }) => String(row.service_id) === '12')).toBe(true);

    const kicked = await get('/controller/EventLog?event_type=dj.kicked&service_id=12&per_page=100');
    const guesses = kicked.body.logs.filter((row: { ip_address: string }) => row.ip_address === '203.0.113.66');
    expect(guesses.length).toBeGreaterThanOrEqual(15);
  });

  it('scopes resellers to their customers and customers to their own services', async () => {
    const reseller = await get('/controller/EventLog?per_page=100', tokens.reseller);
    expect(reseller.body.total).toBeGreaterThan(0);
    expect(new Set(reseller.body.logs.map((row: { customer_id: unknown }) => String(row.customer_id)))).toEqual(new Set(['40', '41']));
    const customer = await get('/controller/EventLog?per_page=100', tokens.customer);
    expect(customer.body.logs.every((row: { customer_id: unknown }) => String(row.customer_id) === '40')).toBe(true);
    const foreign = await get('/controller/EventLog/15', tokens.customer);
    expect(foreign.body?.logs ?? []).toEqual([]);
    expect((await get('/controller/EventLog', 'wrong')).status).toBe(401);
  });

  it('exports the filtered view as CSV', async () => {
    const csv = await get(`/controller/EventLog/export?category=dj&date_from=${day(-30)}`);
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split(/\r?\n/);
    expect(lines.length).toBeGreaterThan(10);
    expect(lines[1]).toMatch(/DJ/);
  });

  it('flushes buffered events on SIGTERM and exits 0', async () => {
    const result = await stopWithBufferedEvents(directory, join(scratch.path, 'shutdown.db'));
    expect(result.code, result.output).toBe(0);
    expect(result.buffered).toBeGreaterThan(0);
    expect(result.after).toBe(result.before + Number(/\((\d+) written since start\)/.exec(result.output)?.[1]));
  });
});
