// A CommonJS host (the kind many Express apps still are): records, queries, and serves the native
// API and its own request log through Express, from the packed packages only.
import type { AddressInfo } from 'node:net';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, defineEventType, definePreset, eventlogAuditPreset, isEventLogError } from '@eventlog/core';
import { eventlogRouter, requestLogger } from '@eventlog/express';
import { native, proxyLogsPreset } from '@eventlog/http';
import { viewer } from '@eventlog/viewer';
import express from 'express';
import { z } from 'zod';

const deploy = defineEventType('app.deploy', z.object({ version: z.string() }), { category: 'release' });
const preset = definePreset({
  name: 'app',
  types: [deploy],
  dimensions: [{ name: 'service', indexed: true }],
  metrics: [{ name: 'elapsed_ms' }],
});

async function main(): Promise<void> {
  // proxyLogsPreset declares what requestLogger records (proxy.request with its dimensions), and
  // eventlogAuditPreset the audit events the native API records.
  const log = createEventLog({
    store: createSqliteStore({ filename: ':memory:' }),
    presets: [preset, proxyLogsPreset, eventlogAuditPreset],
  });
  const failures: unknown[] = [];
  log.on('error', (error) => failures.push(error));

  await log.recordMany([
    { type: 'app.deploy', tenantId: 't-1', dimensions: { service: 'api' }, metrics: { elapsed_ms: 120 }, data: { version: '1.0.0' } },
    { type: 'app.deploy', tenantId: 't-1', dimensions: { service: 'web' }, metrics: { elapsed_ms: 80 }, data: { version: '1.0.1' } },
  ]);
  try {
    // A payload its schema rejects, as a JavaScript caller could send it.
    await log.record(JSON.parse('{"type":"app.deploy","data":{"version":7}}'));
    throw new Error('an invalid payload was accepted');
  } catch (error) {
    if (!isEventLogError(error, 'VALIDATION_FAILED')) throw error;
  }
  const page = await log.query({ filter: { tenantId: 't-1', type: 'app.deploy' }, pageSize: 10 });
  const stats = await log.stats({ type: 'app.deploy' });
  if (page.total !== 2 || page.items.length !== 2 || stats.count !== 2 || stats.sums.elapsed_ms !== 200) {
    throw new Error(`expected 2 events summing 200 ms, got ${page.total} / ${stats.count} / ${stats.sums.elapsed_ms}`);
  }

  const app = express();
  app.use(requestLogger({ log }));
  app.use(eventlogRouter({ log, profiles: [native({ authenticate: () => ({ role: 'admin', id: 'packaging' }) }), viewer()] }));
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const hello = await fetch(`${base}/hello`);
  const events = (await (await fetch(`${base}/eventlog/events?type=app.deploy`)).json()) as { data: unknown[] };
  // The viewer's page and its bundle come from the installed package (built into its dist/ui).
  const viewerPage = await (await fetch(`${base}/eventlog/viewer`)).text();
  const bundle = /src="([^"]+\.js)"/.exec(viewerPage)?.[1];
  const script = bundle ? await fetch(`${base}${bundle}`) : null;
  if (script?.status !== 200 || !(script.headers.get('content-type') ?? '').includes('javascript')) {
    throw new Error(`viewer: page ${viewerPage.slice(0, 80)}, bundle ${bundle} answered ${script?.status}`);
  }
  await new Promise((resolve) => server.close(resolve));
  await log.flush();
  const requests = await log.count({ type: 'proxy.request' });
  if (failures.length || requests < 1) throw new Error(`request log: ${requests} recorded, errors: ${failures.map(String).join('; ')}`);
  const listed = events.data;
  if (hello.status !== 200 || listed.length !== 2) throw new Error(`HTTP: hello ${hello.status}, ${listed.length} events listed`);
  await log.close();
  console.log(
    `commonjs ok: ${page.total} events, ${stats.sums.elapsed_ms} ms in total, native API listed ${listed.length}, ${requests} requests logged`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
