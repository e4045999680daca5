import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog } from '@eventlog/core';
import { createHandler, createOpenApiDocument, mountOpenApiDocument, native, type OpenApiDocument } from '@eventlog/http';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from './testing/profile-test-kit.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/**
 * Values for parameters an operation needs; a required parameter missing here fails the test.
 * `top`'s `by` is needed although the document does not mark it required (its schema is a pipe
 * whose input side is optional), so it is sent whenever it is listed.
 */
const EXAMPLES: Record<string, string> = { by: 'type' };

type Operation = { parameters?: { name: string; in: string; required?: boolean }[] };

/**
 * Calls every GET operation of a document at the URL it implies (`servers[0].url` + path, path
 * parameters filled in), the way a generated client would, and returns each URL with its status.
 */
async function callEveryGet(document: OpenApiDocument, ids: { eventId: number; jobId: string }, headers: Record<string, string>) {
  const servers = document.servers as { url: string }[] | undefined;
  expect(servers?.length).toBe(1);
  const results: { url: string; status: number }[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    const operation = item.get as Operation | undefined;
    if (!operation) continue;
    const query = new URLSearchParams();
    for (const parameter of operation.parameters ?? []) {
      if (parameter.in !== 'query') continue;
      const value = EXAMPLES[parameter.name];
      if (value === undefined && !parameter.required) continue;
      if (value === undefined) throw new Error(`${path} requires ?${parameter.name}, which the test has no example for`);
      query.set(parameter.name, value);
    }
    const id = path.includes('/jobs/') ? ids.jobId : String(ids.eventId);
    const url = `${servers![0]!.url}${path.replace('{id}', id)}${query.size ? `?${query}` : ''}`;
    const abort = new AbortController();
    const response = await fetch(url, { headers, signal: abort.signal });
    // The live tail never ends; its status and headers are the answer.
    abort.abort();
    await response.body?.cancel().catch(() => undefined);
    results.push({ url, status: response.status });
  }
  return results;
}

async function serve(basePath: string | undefined) {
  const log = createEventLog({ store: createSqliteStore() });
  cleanup.push(() => log.close());
  const [event] = await log.recordMany([{ type: 'app.deploy', message: 'v1' }]);
  const job = await log.jobs.prune({ before: 0, dryRun: true });
  const handler = createHandler({
    log,
    profiles: [native({ authenticate: () => ({ role: 'admin' }) })],
    ...(basePath ? { basePath } : {}),
  });
  const server = await listen(handler);
  cleanup.push(server.close);
  return { base: server.base, eventId: event!.id, jobId: job.id };
}

describe('OpenAPI under a base path', () => {
  it('lists the mounted paths and this server, and every GET it lists answers there', async () => {
    const { base, eventId, jobId } = await serve('/x');
    const response = await fetch(`${base}/x/eventlog/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as OpenApiDocument;
    expect(document.servers).toEqual([{ url: base, description: 'This server, with the API mounted at /x.' }]);
    const paths = Object.keys(document.paths);
    expect(paths).toContain('/x/eventlog/events');
    expect(paths.filter((p) => !p.startsWith('/x/eventlog/'))).toEqual([]);
    const result = await validate(structuredClone(document) as Parameters<typeof validate>[0]);
    expect(result.valid ? [] : compileErrors(result)).toEqual([]);

    const calls = await callEveryGet(document, { eventId, jobId }, {});
    expect(calls.map((c) => c.url).sort()).toEqual(
      [
        `${base}/x/eventlog/checkpoints`,
        `${base}/x/eventlog/events`,
        `${base}/x/eventlog/events/${eventId}`,
        `${base}/x/eventlog/export.csv`,
        `${base}/x/eventlog/jobs`,
        `${base}/x/eventlog/jobs/${jobId}`,
        `${base}/x/eventlog/openapi.json`,
        `${base}/x/eventlog/schema`,
        `${base}/x/eventlog/sessions`,
        `${base}/x/eventlog/stats`,
        `${base}/x/eventlog/tail`,
        `${base}/x/eventlog/timeline`,
        `${base}/x/eventlog/top?by=type`,
        `${base}/x/eventlog/whoami`,
      ].sort(),
    );
    // This log keeps no hash chains, so its checkpoint export answers 501 UNSUPPORTED; every other GET answers 200.
    expect(calls.filter((c) => c.status !== 200)).toEqual([{ url: `${base}/x/eventlog/checkpoints`, status: 501 }]);
  });

  it('keeps the paths as they are at the root, with the server still named', async () => {
    const { base, eventId, jobId } = await serve(undefined);
    const document = (await (await fetch(`${base}/eventlog/openapi.json`)).json()) as OpenApiDocument;
    expect(document.servers).toEqual([{ url: base, description: 'This server.' }]);
    expect(Object.keys(document.paths)).toContain('/eventlog/events/{id}');
    const calls = await callEveryGet(document, { eventId, jobId }, {});
    expect(calls).toHaveLength(14);
    expect(calls.filter((c) => c.status !== 200)).toEqual([{ url: `${base}/eventlog/checkpoints`, status: 501 }]);
  });
});

describe('mountOpenApiDocument', () => {
  const document = createOpenApiDocument([{ method: 'GET', path: '/count', run: () => ({ count: 0 }) }], { title: 'Counts' });

  it('normalises the mount path and leaves the input document unchanged', () => {
    for (const basePath of ['logs', '/logs', '/logs/', 'logs//']) {
      expect(Object.keys(mountOpenApiDocument(document, { basePath }).paths)).toEqual(['/logs/count']);
    }
    expect(mountOpenApiDocument(document, { basePath: '/' }).paths).toBe(document.paths);
    expect(mountOpenApiDocument(document, {}).servers).toEqual([{ url: '/', description: 'This server.' }]);
    expect(Object.keys(document.paths)).toEqual(['/count']);
    expect(document.servers).toBeUndefined();
  });

  it('takes a fixed servers list at generation time', () => {
    const fixed = createOpenApiDocument([], { title: 'Fixed', servers: [{ url: 'https://logs.example.com/api' }] });
    expect(fixed.servers).toEqual([{ url: 'https://logs.example.com/api' }]);
  });
});
