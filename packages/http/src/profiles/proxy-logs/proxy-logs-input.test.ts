import { describe, expect, it } from 'vitest';
import { ENVELOPES, expectRefusal } from '../../testing/profile-test-kit.js';
import { call, useProxyFixture } from './fixture.js';

useProxyFixture();

describe('proxyLogs: bad input', () => {
  const table: [string, string, unknown, string][] = [
    ['GET', '/api/logs?limit=0', undefined, 'limit'],
    ['GET', '/api/logs?limit=-1', undefined, 'limit'],
    ['GET', '/api/logs?limit=abc', undefined, 'limit'],
    ['GET', '/api/logs?limit=1.5', undefined, 'limit'],
    ['GET', '/api/logs?limit=1001', undefined, 'limit'],
    ['GET', '/api/logs?limit=99999999999999999999', undefined, 'limit'],
    ['GET', '/api/logs?offset=-1', undefined, 'offset'],
    ['GET', '/api/logs?offset=abc', undefined, 'offset'],
    ['GET', '/api/logs?offset=100001', undefined, 'offset'],
    ['GET', '/api/logs?offset=1e9', undefined, 'offset'],
    ['GET', `/api/logs?search=${'a'.repeat(201)}`, undefined, 'search'],
    ['GET', '/api/logs?search=a&search=b', undefined, 'search'],
    ['GET', '/api/logs/timeline?hours=0', undefined, 'hours'],
    ['GET', '/api/logs/timeline?hours=721', undefined, 'hours'],
    ['GET', '/api/logs/timeline?hours=-5', undefined, 'hours'],
    ['GET', '/api/logs/timeline?hours=abc', undefined, 'hours'],
    ['GET', '/api/logs/timeline?hours=24.5', undefined, 'hours'],
    ['GET', "/api/logs/timeline?hours=24'%20OR%201=1", undefined, 'hours'],
    ['POST', '/api/logs/clear-old?days=0', undefined, 'days'],
    ['POST', '/api/logs/clear-old?days=-1', undefined, 'days'],
    ['POST', '/api/logs/clear-old?days=36501', undefined, 'days'],
    ['POST', '/api/logs/clear-old?days=abc', undefined, 'days'],
    ['POST', '/api/logs/clear-old', { days: 'soon' }, 'days'],
    ['POST', '/api/logs/clear-old', { days: -3 }, 'days'],
    ['POST', '/api/logs/clear-old', [1, 2], 'JSON object'],
    ['POST', '/api/logs/clear', 'not json', 'JSON'],
    ['GET', '/api/audit-log?limit=0', undefined, 'limit'],
    ['GET', '/api/audit-log?offset=-7', undefined, 'offset'],
    ['GET', '/api/clients/statistics?limit=101', undefined, 'limit'],
    ['GET', '/api/clients/statistics?hours=0', undefined, 'hours'],
    ['GET', '/api/domains/statistics?limit=-2', undefined, 'limit'],
    ['GET', '/api/analytics/top-domains?limit=201', undefined, 'limit'],
    ['GET', '/api/analytics/user-agents?hours=9999', undefined, 'hours'],
    ['GET', '/api/analytics/file-extensions?limit=x', undefined, 'limit'],
    ['GET', '/api/traffic/statistics?hours=721', undefined, 'hours'],
    ['POST', '/api/auth/login', {}, 'username'],
    ['POST', '/api/auth/login', { username: 'admin' }, 'password'],
    ['POST', '/api/auth/login', { username: 7, password: 'x' }, 'username'],
    ['POST', '/api/auth/login', { username: 'a'.repeat(129), password: 'x' }, 'username'],
    ['POST', '/api/auth/login', [], 'JSON object'],
    ['POST', '/api/auth/login', '{"username":', 'JSON'],
  ];

  it.each(table)('%s %s → 400 naming %s', async (method, path, body, word) => {
    const response = await call(path, { method, body });
    expectRefusal(response, ENVELOPES.proxyLogs, path);
    const { status, body: answer } = response;
    expect(status).toBe(400);
    expect(answer).toEqual({ status: 'error', detail: expect.stringContaining(word) });
  });

  it('refuses oversized bodies, other media types, wrong methods and unknown paths in the envelope', async () => {
    const cases: [string, Parameters<typeof call>[1], number][] = [
      ['/api/auth/login', { method: 'POST', auth: null, body: { username: 'admin', password: 'x'.repeat(10_000) } }, 413],
      ['/api/logs/clear', { method: 'POST', body: { pad: 'x'.repeat(5000) } }, 413],
      ['/api/auth/login', { method: 'POST', auth: null, body: 'username=a', headers: { 'content-type': 'text/plain' } }, 415],
      ['/api/logs', { method: 'POST', body: {} }, 405],
      ['/api/logs/clear', { method: 'GET' }, 405],
      ['/api/logs/clear-old', { method: 'DELETE' }, 405],
      ['/api/auth/login', { method: 'GET' }, 405],
      ['/api/logs/nothing', {}, 404],
      ['/api/analytics/unknown', {}, 404],
    ];
    for (const [path, init, expected] of cases) {
      const { status, body } = await call(path, init);
      expect(status, path).toBe(expected);
      expect(body, path).toEqual({ status: 'error', detail: expect.any(String) });
    }
  });

  it('treats SQL and wildcard characters in search as plain text, and keeps unknown sorts harmless', async () => {
    for (const term of ["' OR 1=1 --", '%', '_', '\\', '%example%', '*']) {
      const { status, body } = await call(`/api/logs?search=${encodeURIComponent(term)}&sort=${encodeURIComponent(term)}`);
      expect(status, term).toBe(200);
      expect(body.total, term).toBe(0);
    }
  });
});
