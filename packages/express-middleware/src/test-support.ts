// Helpers shared by this package's tests only (not exported, not built): the Express flavours the
// suites run on, a log on SQLite and an app listening on loopback, both closed after each test.
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type StorageAdapter } from '@eventlog/core';
import { proxyLogsPreset } from '@eventlog/http/proxy-logs';
import type express from 'express';
import expressFive from 'express';
import { afterEach } from 'vitest';
import type { AnyEventLog } from './context.js';

// The proxy preset (what requestLogger records) plus any other type the tests record.
export const accessPreset = { presets: [proxyLogsPreset], allowUnknownTypes: true } as const;

// The same suite runs on Express 5 and on Express 4 (installed as the `express4` alias).
const expressFour = createRequire(import.meta.url)('express4') as typeof expressFive;
export const flavours = [
  ['Express 5', expressFive],
  ['Express 4', expressFour],
] as const;

export const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

export function newLog(store: StorageAdapter = createSqliteStore()): AnyEventLog {
  const log = createEventLog({ store, ...accessPreset });
  cleanup.push(() => log.close());
  return log;
}

export async function listen(app: express.Express): Promise<string> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
