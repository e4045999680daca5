import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog } from '@eventlog/core';
import { createHandler, createLimiter, DEFAULT_SHEDDING, HttpError, json, type Profile, sheddingDefaults, withCost } from '@eventlog/http';
import { afterEach, describe, expect, it, vi } from 'vitest';

// On a busy machine a request can take longer than vi.waitFor's default second.
const WAIT = { timeout: 10_000 };

afterEach(() => {
  vi.useRealTimers();
});

const overloaded = (error: unknown) => error instanceof HttpError && error.code === 'OVERLOADED' && error.status === 503;

describe('createLimiter', () => {
  it('runs at most maxConcurrent at once and hands slots out first come, first served', async () => {
    const limiter = createLimiter({ maxConcurrent: 2, maxQueue: 10 });
    const first = await limiter.acquire();
    const second = await limiter.acquire();
    expect(limiter.running).toBe(2);
    const order: number[] = [];
    const waiting = [3, 4, 5].map((n) =>
      limiter.acquire().then((release) => {
        order.push(n);
        return release;
      }),
    );
    expect(limiter.queued).toBe(3);
    first();
    first(); // a second call gives nothing back twice
    const third = await waiting[0]!;
    expect(limiter.running).toBe(2);
    expect(limiter.queued).toBe(2);
    second();
    third();
    const rest = await Promise.all(waiting.slice(1));
    expect(order).toEqual([3, 4, 5]);
    for (const release of rest) release();
    expect(limiter.running).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it('refuses at once with 503 OVERLOADED and Retry-After when the queue is full', async () => {
    const limiter = createLimiter({ maxConcurrent: 1, maxQueue: 1, retryAfterSeconds: 7 });
    const held = await limiter.acquire();
    const queued = limiter.acquire();
    const refused = await limiter.acquire().catch((error: unknown) => error);
    expect(overloaded(refused)).toBe(true);
    expect((refused as HttpError).headers).toEqual({ 'Retry-After': '7' });
    held();
    (await queued)();
    expect(limiter.running).toBe(0);
  });

  it('refuses a request that waited longer than queueTimeoutMs and lets the next one through', async () => {
    // Only the deadline's clock is faked; slots are handed over on the real event loop.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const limiter = createLimiter({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 1000 });
    const held = await limiter.acquire();
    const late = limiter.acquire().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(500);
    const later = limiter.acquire();
    await vi.advanceTimersByTimeAsync(500);
    expect(overloaded(await late)).toBe(true);
    expect(limiter.queued).toBe(1);
    held();
    const release = await later;
    expect(limiter.running).toBe(1);
    release();
  });

  it('takes a request out of the queue when its signal aborts, and never grants it a slot', async () => {
    const limiter = createLimiter({ maxConcurrent: 1, maxQueue: 5 });
    const held = await limiter.acquire();
    const abort = new AbortController();
    let granted = false;
    const gone = limiter.acquire(abort.signal).then(
      () => {
        granted = true;
      },
      (error: unknown) => error,
    );
    const next = limiter.acquire();
    expect(limiter.queued).toBe(2);
    abort.abort();
    expect((await gone) as unknown).toBeInstanceOf(DOMException);
    expect(limiter.queued).toBe(1);
    held();
    (await next)();
    expect(granted).toBe(false);
    expect(limiter.running).toBe(0);
    await expect(limiter.acquire(abort.signal)).rejects.toBeInstanceOf(DOMException);
  });

  it('checks its options and documents its defaults', () => {
    expect(createLimiter().options).toEqual(DEFAULT_SHEDDING);
    expect(DEFAULT_SHEDDING).toEqual({ maxConcurrent: 4, maxQueue: 64, queueTimeoutMs: 10_000, retryAfterSeconds: 5 });
    expect(sheddingDefaults('sqlite')).toEqual({ ...DEFAULT_SHEDDING, maxConcurrent: 1 });
    expect(sheddingDefaults('postgres')).toBe(DEFAULT_SHEDDING);
    expect(createLimiter({ maxQueue: 3 }, sheddingDefaults('sqlite')).options).toEqual({
      ...DEFAULT_SHEDDING,
      maxConcurrent: 1,
      maxQueue: 3,
    });
    expect(() => createLimiter({ maxConcurrent: 0 })).toThrow('shedding.maxConcurrent must be a whole number of at least 1; got 0.');
    expect(() => createLimiter({ maxQueue: 1.5 })).toThrow(TypeError);
    expect(() => createLimiter({ queueTimeoutMs: -1 })).toThrow(TypeError);
  });
});

describe('createHandler shedding', () => {
  const gates: (() => void)[] = [];
  let runs = 0;
  const profile: Profile = {
    name: 'gated',
    routes: [
      {
        method: 'GET',
        path: '/heavy',
        cost: 'expensive',
        run: () =>
          new Promise((resolve) => {
            runs++;
            gates.push(() => resolve({ ok: true }));
          }),
      },
      { method: 'GET', path: '/light', run: () => ({ ok: true }) },
      { method: 'GET', path: '/fails', cost: 'expensive', run: () => Promise.reject(new Error('boom')) },
    ],
    failure: (error) => json({ problem: error.message }, error.status),
  };

  it('answers in the profile envelope with Retry-After, keeps cheap routes open, and gives slots back after failures', async () => {
    const log = createEventLog({ store: createSqliteStore() });
    const limiter = createLimiter({ maxConcurrent: 1, maxQueue: 1, retryAfterSeconds: 3 });
    const handler = createHandler({ log, profiles: [profile], shedding: limiter, onError: () => undefined });
    runs = 0;
    const running = handler(new Request('http://test/heavy'));
    const queued = handler(new Request('http://test/heavy'));
    await vi.waitFor(() => expect(limiter.queued).toBe(1), WAIT);
    const refused = await handler(new Request('http://test/heavy'));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(await refused.json()).toEqual({ problem: 'The server is busy with other expensive requests; retry later.' });
    expect((await handler(new Request('http://test/light'))).status).toBe(200);
    await vi.waitFor(() => expect(runs).toBe(1), WAIT);
    gates.shift()!();
    expect((await running).status).toBe(200);
    await vi.waitFor(() => expect(runs).toBe(2), WAIT);
    gates.shift()!();
    expect((await queued).status).toBe(200);
    expect((await handler(new Request('http://test/fails'))).status).toBe(500);
    expect(limiter.running).toBe(0);
    await log.close();
  });

  it('runs a cheap request read in the same turn before expensive ones, even when a slot is free (synchronous drivers)', async () => {
    const log = createEventLog({ store: createSqliteStore() });
    const order: string[] = [];
    const sync: Profile = {
      name: 'sync',
      routes: [
        { method: 'GET', path: '/heavy', cost: 'expensive', run: () => order.push('heavy') },
        { method: 'GET', path: '/light', run: () => order.push('light') },
      ],
      failure: (error) => json({ problem: error.message }, error.status),
    };
    const handler = createHandler({ log, profiles: [sync] });
    const answers = Array.from({ length: 5 }, () => handler(new Request('http://test/heavy')));
    // Node drains microtasks between two sockets' callbacks within one turn of the loop: do the same.
    for (let i = 0; i < 50; i++) await Promise.resolve();
    answers.push(handler(new Request('http://test/light')));
    expect((await Promise.all(answers)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(order).toEqual(['light', 'heavy', 'heavy', 'heavy', 'heavy', 'heavy']);
    await log.close();
  });

  it('can be turned off', async () => {
    const log = createEventLog({ store: createSqliteStore() });
    const handler = createHandler({ log, profiles: [withCost(profile, () => 'expensive')], shedding: false });
    runs = 0;
    const answers = Array.from({ length: DEFAULT_SHEDDING.maxConcurrent + DEFAULT_SHEDDING.maxQueue + 5 }, () =>
      handler(new Request('http://test/heavy')),
    );
    await vi.waitFor(() => expect(runs).toBe(answers.length), WAIT);
    for (const open of gates.splice(0)) open();
    expect((await Promise.all(answers)).map((r) => r.status)).toEqual(answers.map(() => 200));
    await log.close();
  });

  it('releases the slot of a streamed answer only when its body is done, and on HEAD at once', async () => {
    const log = createEventLog({ store: createSqliteStore() });
    const limiter = createLimiter({ maxConcurrent: 1 });
    const stream: Profile = {
      name: 'stream',
      routes: [{ method: 'GET', path: '/csv', cost: 'expensive', run: () => new Response('a,b\n1,2\n') }],
      failure: (error) => json({ problem: error.message }, error.status),
    };
    const handler = createHandler({ log, profiles: [stream], shedding: limiter });
    const response = await handler(new Request('http://test/csv'));
    expect(limiter.running).toBe(1);
    expect(await response.text()).toBe('a,b\n1,2\n');
    expect(limiter.running).toBe(0);
    const head = await handler(new Request('http://test/csv', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    await vi.waitFor(() => expect(limiter.running).toBe(0), WAIT);
    await log.close();
  });
});
