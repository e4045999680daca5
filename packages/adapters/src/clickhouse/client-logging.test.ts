import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { requireServer } from '../testing/servers.js';
import { type ClickhouseStore, createClickhouseStore } from './clickhouse-store.js';
import { cancellable, select } from './client.js';

const url = await requireServer('clickhouse');

/** Everything the process prints while `fn` runs: console methods and direct writes to stderr/stdout. */
async function printed(fn: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const capture =
    (name: string) =>
    (...args: unknown[]) => {
      lines.push(`${name}: ${args.map(String).join(' ')}`);
    };
  const spies = [
    vi.spyOn(console, 'error').mockImplementation(capture('console.error')),
    vi.spyOn(console, 'warn').mockImplementation(capture('console.warn')),
    vi.spyOn(console, 'info').mockImplementation(capture('console.info')),
    vi.spyOn(console, 'log').mockImplementation(capture('console.log')),
    vi.spyOn(console, 'debug').mockImplementation(capture('console.debug')),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      lines.push(`stderr: ${String(chunk)}`);
      return true;
    }),
  ];
  try {
    await fn();
    // The client logs from its socket handlers, which may run a turn after the promise settled.
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}

describe.skipIf(!url)('clickhouse: a cancelled request is not logged as an error', () => {
  let store: ClickhouseStore;
  beforeAll(() => {
    // The store opens its own client from the URL: that client's logging is what the host gets.
    store = createClickhouseStore({ url: url! });
  });
  afterAll(async () => {
    await store?.close();
  });
  afterEach(() => vi.restoreAllMocks());

  it('an aborted aggregate (no response yet) prints nothing', async () => {
    const controller = new AbortController();
    const lines = await printed(async () => {
      const tag = `quiet_${randomUUID().replaceAll('-', '')}`;
      const read = select(
        store.client,
        `SELECT /* ${tag} */ count() AS n FROM system.numbers WHERE number % 7 = 3 LIMIT 1 SETTINGS max_execution_time = 20`,
        controller.signal,
      );
      setTimeout(() => controller.abort(), 300);
      await expect(read).rejects.toThrow();
    });
    expect(lines).toEqual([]);
  }, 30_000);

  it('a read aborted while its rows stream in prints nothing', async () => {
    const controller = new AbortController();
    let bytes = 0;
    const lines = await printed(() =>
      // As the store's export stream does: the request is aborted and the query killed by its id.
      cancellable(store.client, controller.signal, async (params) => {
        const result = await store.client.exec({
          query: 'SELECT number, toString(number) AS s FROM system.numbers LIMIT 100000000 FORMAT JSONEachRow',
          ...params,
        });
        for await (const chunk of result.stream as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (bytes > 100_000) controller.abort();
        }
      }).catch(() => undefined),
    );
    expect(controller.signal.aborted).toBe(true);
    expect(lines).toEqual([]);
  }, 30_000);

  it('a request that fails for another reason is still logged', async () => {
    // Only cancellations are silenced: a refused connection is the host's to see.
    const unreachable = createClickhouseStore({ url: 'http://127.0.0.1:1' });
    try {
      const lines = await printed(() => expect(select(unreachable.client, 'SELECT 1')).rejects.toThrow());
      expect(lines.join('\n')).toMatch(/console\.error: .*ERROR.*HTTP request error[\s\S]*ECONNREFUSED/);
    } finally {
      await unreachable.close();
    }
  });
});
