import { randomUUID } from 'node:crypto';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServer } from '../testing/servers.js';
import { cancellable, READ_SETTINGS, STORE_CLIENT_OPTIONS } from './client.js';

const url = await requireServer('clickhouse');

describe.skipIf(!url)('clickhouse: an aborted read is stopped on the server', () => {
  let client: ClickHouseClient;
  let admin: ClickHouseClient;
  beforeAll(() => {
    // Built as the store builds its clients, so the abort below logs nothing.
    client = createClient({ url: url!, ...STORE_CLIENT_OPTIONS });
    admin = createClient({ url: url! });
  });
  afterAll(async () => {
    await client?.close();
    await admin?.close();
  });

  // How many queries tagged with `tag` the server is running (the probe's own text holds the tag
  // too, but as a string literal inside `LIKE`, which the pattern below does not match).
  const running = async (tag: string) => {
    const result = await admin.query({
      query: `SELECT count() AS n FROM system.processes WHERE query LIKE '%/* ${tag} */%' AND query NOT LIKE '%system.processes%'`,
      format: 'JSONEachRow',
    });
    return Number(((await result.json()) as { n: number | string }[])[0]?.n ?? 0);
  };

  it('a long aggregate is gone from system.processes within a second of the abort', async () => {
    const tag = `abort_${randomUUID().replaceAll('-', '')}`;
    const controller = new AbortController();
    // An aggregate sends nothing until it is done, so only a KILL stops it on the server.
    const pending = cancellable(client, controller.signal, (params) =>
      client.query({
        query: `SELECT /* ${tag} */ count() AS n FROM system.numbers WHERE number % 7 = 3 LIMIT 1 SETTINGS max_execution_time = 20`,
        format: 'JSONEachRow',
        clickhouse_settings: READ_SETTINGS,
        ...params,
      }),
    ).then(
      () => 'resolved',
      () => 'rejected',
    );
    const started = performance.now();
    while ((await running(tag)) === 0) {
      if (performance.now() - started > 10_000) throw new Error('the query never showed up in system.processes');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    controller.abort();
    expect(await pending).toBe('rejected');
    const aborted = performance.now();
    while ((await running(tag)) > 0) {
      if (performance.now() - aborted > 1000) throw new Error('the query still runs a second after the abort');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, 30_000);
});
