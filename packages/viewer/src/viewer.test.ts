import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type EventLog } from '@eventlog/core';
import { eventlogRouter } from '@eventlog/express';
import { createHandler } from '@eventlog/http';
import { native } from '@eventlog/http/native';
import { toNodeHandler } from '@eventlog/http/node';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWER_CSP, viewer } from './index.js';
import { ensureUiBuilt } from './test-server.js';

let log: EventLog;
beforeAll(() => {
  ensureUiBuilt();
  log = createEventLog({ store: createSqliteStore({ filename: ':memory:' }) });
});
afterAll(() => log.close());

const profiles = () => [native({ authenticate: () => ({ role: 'admin' }) }), viewer({ title: 'Audit <log> & "more"' })];

/** The asset URLs the page names. */
function assetUrls(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!.replace(/&#47;/g, '/'));
}

describe('viewer() through createHandler', () => {
  it('serves the page with a strict CSP, nosniff and the API path, title escaped', async () => {
    const handler = createHandler({ log, profiles: profiles() });
    const response = await handler(new Request('http://x/eventlog/viewer'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(VIEWER_CSP);
    expect(VIEWER_CSP).toContain("script-src 'self'");
    expect(VIEWER_CSP).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const html = await response.text();
    expect(html).toContain('<title>Audit &#60;log&#62; &#38; &#34;more&#34;</title>');
    expect(html).toContain('data-api="/eventlog"');
    // No inline script and no style attribute anywhere in the markup.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(assetUrls(html)).toHaveLength(2);
    expect((await handler(new Request('http://x/eventlog/viewer/'))).status).toBe(200);
  });

  it('serves the hashed assets immutable with an ETag, answers 304 to If-None-Match, and HEAD without a body', async () => {
    const handler = createHandler({ log, profiles: profiles() });
    const html = await (await handler(new Request('http://x/eventlog/viewer'))).text();
    for (const url of assetUrls(html)) {
      expect(url).toMatch(/^\/eventlog\/viewer\/assets\/viewer-[A-Z0-9]+\.(js|css)$/);
      const response = await handler(new Request(`http://x${url}`));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(url.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const etag = response.headers.get('etag');
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      const again = await handler(new Request(`http://x${url}`, { headers: { 'If-None-Match': etag! } }));
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
      const head = await handler(new Request(`http://x${url}`, { method: 'HEAD' }));
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    }
  });

  it('answers 404 for any file it did not build, never a file from disk', async () => {
    const handler = createHandler({ log, profiles: profiles() });
    for (const path of [
      '/eventlog/viewer/assets/manifest.json',
      '/eventlog/viewer/assets/..%2F..%2Fpackage.json',
      '/eventlog/viewer/nope',
    ]) {
      const response = await handler(new Request(`http://x${path}`));
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('"name"');
    }
  });

  it('follows the host base path, its own path and the API prefix', async () => {
    const handler = createHandler({
      log,
      basePath: '/admin',
      profiles: [native({ authenticate: () => ({ role: 'admin' }), prefix: '/api/logs' }), viewer({ path: '/logs/', api: '/api/logs' })],
    });
    const html = await (await handler(new Request('http://x/admin/logs'))).text();
    expect(html).toContain('data-api="/admin/api/logs"');
    for (const url of assetUrls(html)) {
      expect(url.startsWith('/admin/logs/assets/')).toBe(true);
      expect((await handler(new Request(`http://x${url}`))).status).toBe(200);
    }
  });

  it('refuses a path that is not an absolute path', () => {
    expect(() => viewer({ path: 'viewer' })).toThrow(/must be a path starting with/);
    expect(() => viewer({ api: '/x"><script>' })).toThrow(/may hold only/);
  });
});

describe('the page budget', () => {
  it('ships under 100 KiB of gzipped JavaScript, as the manifest records', () => {
    const dist = new URL('../dist/ui/', import.meta.url);
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', dist), 'utf8')) as { js: string; jsGzipBytes: number };
    const gzipped = gzipSync(readFileSync(new URL(manifest.js, dist)), { level: 9 }).length;
    expect(gzipped).toBe(manifest.jsGzipBytes);
    expect(gzipped).toBeLessThan(100 * 1024);
  });
});

describe('viewer() over real sockets', () => {
  async function check(base: string, prefix = '') {
    const page = await fetch(`${base}${prefix}/eventlog/viewer`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(VIEWER_CSP);
    const html = await page.text();
    expect(html).toContain(`data-api="${prefix}/eventlog"`);
    for (const url of assetUrls(html)) expect((await fetch(`${base}${url}`)).status).toBe(200);
  }

  it('works unchanged through the Node binding', async () => {
    const server = createServer(toNodeHandler(createHandler({ log, profiles: profiles() })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await check(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('works unchanged through the Express router, mounted below a path', async () => {
    const app = express();
    app.use('/ops', eventlogRouter({ log, profiles: profiles() }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      await check(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, '/ops');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
