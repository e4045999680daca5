import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventLog } from '@eventlog/core';
import { createHandler, defineProfile, json } from '@eventlog/http';
import { toNodeHandler } from '@eventlog/http/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

let log: EventLog;
let server: Server;
let base: string;
let pulled = 0;
let aborted: Promise<void>;
let started: Promise<void>;
let markStarted: () => void;
let markAborted: () => void;
let cancelled: Promise<void>;
let markCancelled: () => void;

const profile = defineProfile({
  name: 'node-test',
  routes: [
    {
      method: 'POST',
      path: '/echo',
      body: z.object({ text: z.string() }),
      run: ({ body }) => json({ text: body.text }, 201, { 'set-cookie': 'a=1' }),
    },
    {
      method: 'GET',
      path: '/wait',
      run: ({ signal }) =>
        new Promise<Response>((resolve) => {
          markStarted();
          signal.addEventListener('abort', () => {
            markAborted();
            resolve(json({ late: true }));
          });
        }),
    },
    {
      method: 'GET',
      path: '/many-reads',
      // Twelve reads at once on the request's signal, as a dashboard endpoint runs them.
      run: async ({ log, signal }) => json({ counts: await Promise.all(Array.from({ length: 12 }, () => log.count({}, { signal }))) }),
    },
    {
      method: 'GET',
      path: '/late-stream',
      // Answers a stream only once its client has gone: nobody will read it, so it must be cancelled.
      run: ({ signal }) =>
        new Promise<Response>((resolve) => {
          markStarted();
          signal.addEventListener('abort', () =>
            resolve(
              new Response(
                new ReadableStream<Uint8Array>({
                  pull(controller) {
                    controller.enqueue(new Uint8Array(16));
                  },
                  cancel() {
                    markCancelled();
                  },
                }),
              ),
            ),
          );
        }),
    },
    {
      method: 'GET',
      path: '/big',
      run: () => {
        pulled = 0;
        const chunk = new Uint8Array(64 * 1024).fill(120);
        return new Response(
          new ReadableStream<Uint8Array>(
            {
              pull(controller) {
                pulled++;
                if (pulled > 2000) controller.close();
                else controller.enqueue(chunk);
              },
              cancel() {
                markCancelled();
              },
            },
            { highWaterMark: 1 },
          ),
        );
      },
    },
  ],
  failure: (error) => json({ error: error.message }, error.status),
});

beforeEach(async () => {
  cancelled = new Promise((resolve) => {
    markCancelled = resolve;
  });
  aborted = new Promise((resolve) => {
    markAborted = resolve;
  });
  started = new Promise((resolve) => {
    markStarted = resolve;
  });
  log = createEventLog({ store: createSqliteStore() });
  server = createServer(toNodeHandler(createHandler({ log, profiles: [profile] })));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await log.close();
});

describe('toNodeHandler', () => {
  it('passes bodies, statuses and headers through a real socket', async () => {
    const response = await fetch(`${base}/echo`, {
      method: 'POST',
      body: '{"text":"hé"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('set-cookie')).toBe('a=1');
    expect(await response.json()).toEqual({ text: 'hé' });
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
  });

  it('runs many reads at once on one request without a listener-leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const response = await fetch(`${base}/many-reads`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ counts: Array(12).fill(0) });
      // Warnings are emitted on a later turn of the loop.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
  });

  it('aborts the request signal when the client disconnects before the answer', async () => {
    const req = httpRequest(`${base}/wait`);
    req.on('error', () => undefined);
    req.end();
    await started;
    req.destroy();
    await aborted;
  });

  it('cancels an answer that is ready only after the client disconnected', async () => {
    const req = httpRequest(`${base}/late-stream`);
    req.on('error', () => undefined);
    req.end();
    await started;
    req.destroy();
    await cancelled;
  });

  it('answers HEAD without a body and cancels the GET body', async () => {
    const head = await fetch(`${base}/big`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    await cancelled;
  });

  it('refuses an oversized streamed body with 413', async () => {
    const response = await fetch(`${base}/echo`, {
      method: 'POST',
      body: JSON.stringify({ text: 'x'.repeat(2_000_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(413);
  });

  it('stops pulling a streamed body when the client does not read, and cancels it on disconnect', async () => {
    const req = httpRequest(`${base}/big`);
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    res.pause();
    // Give the server time to fill the socket buffers; it must then wait for drain.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pulled).toBeLessThan(200);
    req.destroy();
    await cancelled;
    expect(pulled).toBeLessThan(200);
  });
});
