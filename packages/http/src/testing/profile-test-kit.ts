// The profile test template: what every profile test needs, so that a new profile's test starts from
// the same real engine (SQLite in memory), the same handler wiring and the same "4xx in the
// product's envelope, never a 5xx" assertion. Used by this package's tests only; not exported.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventLogOptions, type Preset } from '@eventlog/core';
import { expect } from 'vitest';
import { createHandler, type Handler, type HandlerOptions } from '../handler.js';
import { toNodeHandler } from '../node.js';
import type { Profile } from '../profile.js';

/** An event log on an in-memory SQLite store (the real engine), with the presets a profile needs and a fixed clock. */
export function createTestLog<const P extends readonly Preset[] = []>(options: Omit<EventLogOptions<P>, 'store'> = {}) {
  return createEventLog({ store: createSqliteStore(), ...options } as EventLogOptions<P>);
}

/**
 * A handler serving `profiles` whose 5xx causes are rethrown: a test that hits a server error
 * fails on the real cause instead of passing over an envelope.
 */
export function createTestHandler(
  log: HandlerOptions['log'],
  profiles: readonly Profile[],
  options: Omit<HandlerOptions, 'log' | 'profiles'> = {},
): Handler {
  return createHandler({
    log,
    profiles,
    onError: (error) => {
      throw error;
    },
    ...options,
  });
}

/** What {@link send} read from an answer. */
export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when the answer is JSON, else null. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read envelope fields of any shape.
  body: any;
}

/** Sends one request to a handler and reads the whole answer. */
export async function send(handler: Handler, url: string, init: RequestInit = {}): Promise<TestResponse> {
  const response = await handler(new Request(url, init));
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  return { status: response.status, headers: response.headers, text, body: isJson && text ? JSON.parse(text) : null };
}

/** The error envelope of each product, as its clients parse it. */
export const ENVELOPES = {
  native: (body: unknown) => expect(body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } }),
  newApi: (body: unknown) => expect(body).toMatchObject({ success: false, message: expect.any(String) }),
  xuiOne: (body: unknown) => expect(body).toEqual({ status: 'STATUS_FAILURE', error: expect.any(String) }),
  mediaCp: (body: unknown) => expect(body).toMatchObject({ success: false, message: expect.any(String) }),
  unifiAccess: (body: unknown) => expect(body).toEqual({ code: expect.stringMatching(/^CODE_/), msg: expect.any(String) }),
  proxyLogs: (body: unknown) => expect(body).toEqual({ status: 'error', detail: expect.any(String) }),
} as const;

/**
 * Asserts a refusal as a client sees it: a 4xx status (never a 5xx), the product's envelope, and no
 * stack trace or driver text in the body.
 */
export function expectRefusal(response: TestResponse, envelope: (body: unknown) => void, label = ''): void {
  expect(response.status, label).toBeGreaterThanOrEqual(400);
  expect(response.status, label).toBeLessThan(500);
  envelope(response.body);
  expect(response.text, label).not.toMatch(/\n\s+at |SQLITE_|node_modules/);
}

/**
 * Lists every place where `actual` differs from a documented example in shape or JSON type: each
 * key of the example must exist with the same JSON type (arrays are checked item by item against
 * the example's first item). Extra keys in `actual` are allowed.
 */
export function shapeMismatches(actual: unknown, example: unknown, path = '$'): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(actual) !== kind(example)) return [`${path}: expected ${kind(example)}, got ${kind(actual)} (${JSON.stringify(actual)})`];
  if (Array.isArray(example)) {
    const template = example[0];
    if (template === undefined) return [];
    return (actual as unknown[]).flatMap((item, i) => shapeMismatches(item, template, `${path}[${i}]`));
  }
  if (example && typeof example === 'object') {
    return Object.entries(example).flatMap(([key, value]) =>
      key in (actual as object)
        ? shapeMismatches((actual as Record<string, unknown>)[key], value, `${path}.${key}`)
        : [`${path}.${key}: missing`],
    );
  }
  return [];
}

/** Serves a handler on 127.0.0.1 with an ephemeral port; `close` ends every connection. */
export async function listen(handler: Handler): Promise<{ base: string; close: () => Promise<void>; server: Server }> {
  const server = createServer(toNodeHandler(handler));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
