import { describe, expect, it } from 'vitest';
import { HTTP_REQUEST_TYPE, httpRequestDataSchema, httpRequestEvent, httpRequestsPreset } from './http-requests.js';

describe('httpRequestEvent', () => {
  it('keeps the historical type name, so existing databases and APIs read new rows unchanged', () => {
    expect(HTTP_REQUEST_TYPE).toBe('proxy.request');
    expect(httpRequestsPreset.types.map((t) => t.name)).toEqual(['proxy.request']);
    expect(httpRequestsPreset.metrics.map((m) => m.name)).toEqual(['bytes']);
  });

  it('derives host, path, status code, extension, raw-IP flag, outcome and message from plain facts', () => {
    const event = httpRequestEvent({
      time: 1_700_000_000_000,
      clientIp: '10.0.0.5',
      method: 'get',
      destination: 'http://198.51.100.7/files/Setup.EXE?x=1',
      status: 'TCP_DENIED/403',
      bytes: 0,
      userAgent: 'curl/8.5.0',
    });
    expect(event).toMatchObject({
      type: 'proxy.request',
      time: 1_700_000_000_000,
      action: 'GET',
      outcome: 'BLOCKED',
      message: 'GET http://198.51.100.7/files/Setup.EXE?x=1 TCP_DENIED/403',
      ip: '10.0.0.5',
      userAgent: 'curl/8.5.0',
      dimensions: {
        method: 'GET',
        host: '198.51.100.7',
        path: '/files/Setup.EXE',
        status_code: 403,
        status_text: 'TCP_DENIED/403',
        file_extension: 'exe',
        destination_is_ip: 1,
      },
      metrics: { bytes: 0 },
      data: { url: 'http://198.51.100.7/files/Setup.EXE?x=1' },
    });
  });

  it('reads a host app request (host plus route pattern) and a CONNECT target', () => {
    const served = httpRequestEvent({ method: 'POST', destination: 'app.local:3000/api/users/:id', path: '/api/users/:id', status: 201 });
    expect(served.dimensions).toMatchObject({ host: 'app.local', path: '/api/users/:id', status_code: 201, destination_is_ip: 0 });
    expect(served.outcome).toBe('ALLOWED');
    expect(served.data).toBeUndefined();
    const tunnel = httpRequestEvent({ method: 'CONNECT', destination: '[2001:db8::1]:443', status: '200 Connection established' });
    expect(tunnel.dimensions).toMatchObject({ host: '2001:db8::1', path: null, status_code: 200, destination_is_ip: 1 });
  });

  it('clips long values to the dimension width and accepts the payload it builds', () => {
    const long = `example.com/${'a'.repeat(400)}`;
    const event = httpRequestEvent({ method: 'GET', destination: long, status: 200, userAgent: 'x'.repeat(1000) });
    expect(String(event.dimensions?.destination)).toHaveLength(255);
    expect(event.userAgent).toHaveLength(512);
    expect(httpRequestDataSchema.safeParse({ url: 'http://a/b', route: '/b' }).success).toBe(true);
  });
});
