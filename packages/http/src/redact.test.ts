import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandler, json, type Profile, redactedRequest, redactUrl } from '@eventlog/http';
import { toNodeHandler } from '@eventlog/http/node';
import { describe, expect, it } from 'vitest';
import { createTestLog } from './testing/profile-test-kit.js';

describe('redactUrl', () => {
  it('replaces the named query values, case-insensitively and after decoding, and drops the fragment', () => {
    expect(redactUrl('/a?token=abc&b=1', ['token'])).toBe('/a?token=%5BREDACTED%5D&b=1');
    expect(redactUrl('/a?TOKEN=abc&acc%65ss_token=d', ['token', 'access_token'])).toBe(
      '/a?TOKEN=%5BREDACTED%5D&acc%65ss_token=%5BREDACTED%5D',
    );
    expect(redactUrl('/viewer#token=abc', ['token'])).toBe('/viewer');
    expect(redactUrl('/a?b=1#token=abc', ['token'])).toBe('/a?b=1');
    expect(redactUrl('/a?token&b=%E0%A4%A', ['token'])).toBe('/a?token&b=%E0%A4%A');
    expect(redactUrl('/a?b=1', [])).toBe('/a?b=1');
  });
});

describe("the handler's onError", () => {
  it('gets a copy of the request without credentials, never the original', async () => {
    const broken: Profile = {
      name: 'broken',
      routes: [
        {
          method: 'GET',
          path: '/boom',
          run: () => {
            throw new Error('boom');
          },
        },
      ],
      failure: (error) => json({ error: error.code }, error.status),
    };
    const seen: Request[] = [];
    const log = createTestLog();
    const handler = createHandler({ log, profiles: [broken], onError: (_error, request) => seen.push(request) });
    const server = createServer(toNodeHandler(handler));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/boom?token=t1&access_token=t2&keep=yes`, {
        headers: { authorization: 'Bearer t3', cookie: 'sid=t4', 'x-request-id': 'r-1' },
      });
      expect(response.status).toBe(500);
      expect(seen).toHaveLength(1);
      const request = seen[0]!;
      expect(request.url).toBe(`http://127.0.0.1:${port}/boom?token=%5BREDACTED%5D&access_token=%5BREDACTED%5D&keep=yes`);
      expect(request.headers.get('authorization')).toBe('[REDACTED]');
      expect(request.headers.get('cookie')).toBe('[REDACTED]');
      expect(request.headers.get('x-request-id')).toBe('r-1');
      expect(JSON.stringify([...request.headers])).not.toMatch(/t3|t4/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await log.close();
    }
    const safe = redactedRequest(
      new Request('http://x/a', { method: 'POST', body: 'secret body', headers: { 'proxy-authorization': 'Basic x' } }),
    );
    expect(safe.method).toBe('POST');
    expect(safe.headers.get('proxy-authorization')).toBe('[REDACTED]');
    expect(safe.body).toBeNull();
  });
});
