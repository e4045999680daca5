// Test support (not exported): a real HTTP server on a port-0 socket serving the native API and the
// viewer over a seeded SQLite log, and a Chromium launcher. Imported by the browser tests only.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import {
  createEventLog,
  defineEventType,
  definePreset,
  type EventInput,
  type EventLog,
  eventlogAuditPreset,
  type Principal,
} from '@eventlog/core';
import { bearerToken, createHandler, type Profile } from '@eventlog/http';
import { native } from '@eventlog/http/native';
import { toNodeHandler } from '@eventlog/http/node';
import { createViewerToken, viewerTokenAuth } from '@eventlog/http/viewer-token';
import { type Browser, chromium } from 'playwright-core';
import { z } from 'zod';
import { viewer } from './index.js';

/** Builds dist/ui when a source file is newer than it (CI builds first, so this is a no-op there). */
export function ensureUiBuilt(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build-ui.mjs', import.meta.url))], { stdio: 'pipe' });
}

export const HOSTILE_MESSAGE = '<img src=x onerror=alert(1)>';
export const HOSTILE_LINK = 'javascript:alert(document.domain)';

const request = defineEventType('app.request', z.object({ path: z.string() }).passthrough(), { category: 'http' });
const login = defineEventType('app.login', z.object({ method: z.string() }).passthrough(), { category: 'auth' });
const connect = defineEventType('stream.connect', z.unknown(), { category: 'connection' });
export const testPreset = definePreset({
  name: 'viewer-test',
  types: [request, login, connect],
  dimensions: [{ name: 'model', indexed: true }],
  metrics: [{ name: 'quota' }, { name: 'prompt_tokens' }],
});

/** The host's own static bearer token (the `fallback` of viewerTokenAuth) and its principal. */
export const TOKENS: Record<string, Principal> = { 'admin-token': { role: 'admin', id: 'ada' } };

/** The signing secret of the test server's viewer tokens. */
export const VIEWER_SECRET = 'viewer-test-secret-of-at-least-32-bytes';

/** A viewer token of the test server: `createViewerToken` with its secret. */
export function viewerToken(principal: Principal, ttl: number | string = '15m', clock?: () => number): Promise<string> {
  return createViewerToken({ secret: VIEWER_SECRET, principal, ttl, ...(clock ? { clock } : {}) });
}

export interface TestServer {
  url: string;
  log: EventLog;
  /** The epoch ms the seed was laid out from. */
  seededAt: number;
  close(): Promise<void>;
}

/** `count` deterministic events over the last 20 hours, across three tenants, plus hostile strings. */
export function seedEvents(count: number, now: number): EventInput[] {
  const outcomes = ['success', 'success', 'success', 'failure'];
  const severities = ['info', 'info', 'warning', 'error'];
  const models = ['gpt-4o', 'claude-3', 'llama-3'];
  const events: EventInput[] = [];
  for (let i = 0; i < count; i++) {
    const tenant = `t-${(i % 3) + 1}`;
    const isLogin = i % 5 === 0;
    events.push({
      type: isLogin ? 'app.login' : 'app.request',
      time: now - Math.floor(((i * 7919) % 1000) * 72_000) - 1000,
      action: isLogin ? 'login' : 'call',
      outcome: outcomes[i % 4]!,
      severity: severities[(i >> 2) % 4]!,
      message: isLogin ? `user-${i % 7} signed in` : `request ${i} to /api/v${i % 3}`,
      actor: { id: `user-${i % 7}`, type: 'user', name: `User ${i % 7}` },
      target: { type: 'endpoint', id: `/api/v${i % 3}`, name: `API v${i % 3}` },
      tenantId: tenant,
      ip: `10.0.${i % 4}.${i % 250}`,
      dimensions: { model: models[i % 3]! },
      metrics: { quota: (i % 10) * 100, prompt_tokens: (i % 13) * 17 },
      data: isLogin ? { method: i % 2 ? 'password' : 'sso' } : { path: `/api/v${i % 3}`, query: { page: i % 4 } },
    });
  }
  events.push({
    type: 'app.request',
    time: now - 30_000,
    action: 'call',
    outcome: 'failure',
    severity: 'error',
    message: HOSTILE_MESSAGE,
    actor: { id: 'mallory', type: 'user', name: HOSTILE_LINK },
    target: { type: 'endpoint', id: '<script>alert(2)</script>', name: '"><svg onload=alert(3)>' },
    tenantId: 't-1',
    dimensions: { model: '<b>bold</b>' },
    data: { path: HOSTILE_LINK, html: '<iframe src="javascript:alert(4)"></iframe>' },
  });
  return events;
}

export interface StartOptions {
  seed?: number;
  /** Extra profiles before the native API (e.g. another auth). */
  profiles?: (log: EventLog) => Profile[];
}

/** Starts the server over a fresh in-memory SQLite log with `seed` events and two open sessions; viewer tokens or the static admin token authenticate. */
export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  ensureUiBuilt();
  const log: EventLog = createEventLog({ store: createSqliteStore({ filename: ':memory:' }), presets: [testPreset, eventlogAuditPreset] });
  const seededAt = Date.now();
  await log.recordMany(seedEvents(options.seed ?? 600, seededAt));
  await log.sessions.open({ type: 'stream.connect', sessionId: 'conn-1', actor: { id: 'dj-kim', name: 'DJ Kim' }, tenantId: 't-1' });
  await log.sessions.open({ type: 'stream.connect', sessionId: 'conn-2', actor: { id: 'viewer-9', name: 'Viewer 9' }, tenantId: 't-2' });
  // Viewer tokens first; the host's own static token through the fallback hook.
  const authenticate = viewerTokenAuth({ secret: VIEWER_SECRET, fallback: (req: Request) => TOKENS[bearerToken(req) ?? ''] ?? null });
  const handler = createHandler({
    log,
    profiles: [...(options.profiles?.(log) ?? []), native({ authenticate }), viewer({ title: 'Test log' })],
    shedding: false,
  });
  const server: Server = createServer(toNodeHandler(handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    log,
    seededAt,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await log.close();
    },
  };
}

/** Debian's Chromium, headless, as the machine notes describe. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
