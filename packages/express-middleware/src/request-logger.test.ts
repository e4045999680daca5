import { once } from 'node:events';
import { connect } from 'node:net';
import { proxyLogs, proxyUsers } from '@eventlog/http/proxy-logs';
import { describe, expect, it } from 'vitest';
import { eventlogRouter, requestLogger } from './index.js';
import { flavours, listen, newLog, until } from './test-support.js';

describe.each(flavours)('requestLogger with the host and the log API on %s', (_name, express) => {
  it('leaves the log API’s own requests out of the access log by default, and records them when asked', async () => {
    for (const skipEventlog of [undefined, false]) {
      const log = newLog();
      const app = express();
      app.use(requestLogger({ log, ...(skipEventlog === undefined ? {} : { skipEventlog }) }));
      app.use(eventlogRouter({ log, profiles: [proxyLogs({ authenticate: proxyUsers([{ username: 'admin', password: 'pw' }]) })] }));
      app.get('/page', (_req, res) => {
        res.send('page');
      });
      const base = await listen(app);
      const auth = { Authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
      await (await fetch(`${base}/page`)).text();
      await (await fetch(`${base}/api/logs`, { headers: auth })).text();
      await (await fetch(`${base}/api/logs/stats`)).text();
      await (await fetch(`${base}/api/logs/no-such-endpoint`, { headers: auth })).text();
      const expected = skipEventlog === false ? 4 : 1;
      await until(async () => {
        await log.flush();
        return (await log.count({ type: 'proxy.request' })) >= expected ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 50));
      await log.flush();
      const paths = (
        await log.query({ filter: { type: 'proxy.request' }, pageSize: 10, sort: { field: 'time', direction: 'asc' } })
      ).items.map((e) => e.dimensions.path);
      if (skipEventlog === false) expect(paths).toEqual(['/page', '/api/logs', '/api/logs/stats', '/api/logs/no-such-endpoint']);
      else expect(paths).toEqual(['/page']);
    }
  });

  it('records requests the host rejects: a 413 from express.json() and a client that resets mid-body', async () => {
    const log = newLog();
    const errors: unknown[] = [];
    log.on('error', (error) => errors.push(error));
    const app = express();
    app.use(requestLogger({ log }));
    app.use(express.json({ limit: '100b' }));
    app.post('/ingest', (req, res) => {
      res.json({ got: req.body });
    });
    const base = await listen(app);
    const tooLarge = await fetch(`${base}/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'big-client/1.0' },
      body: JSON.stringify({ pad: 'x'.repeat(200_000) }),
    });
    await tooLarge.text();
    expect(tooLarge.status).toBe(413);
    const rejected = await until(async () => {
      await log.flush();
      return (await log.query({ filter: { dimensions: { status_code: 413 } }, pageSize: 1 })).items[0];
    });
    expect(rejected).toMatchObject({
      ip: '127.0.0.1',
      userAgent: 'big-client/1.0',
      action: 'POST',
      dimensions: { path: '/ingest', status_code: 413, status_text: '413 Payload Too Large' },
    });

    // A client that announces a body, sends part of it and resets the connection.
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 80\r\n\r\n{"a":');
    await new Promise((r) => setTimeout(r, 50));
    socket.resetAndDestroy();
    // body-parser answers the aborted read with 400 "request aborted" when the socket still takes
    // it, else the logger sees the client gone first (499): either way the request is in the log.
    const reset = await until(async () => {
      await log.flush();
      const rows = (await log.query({ filter: { dimensions: { path: '/ingest' } }, pageSize: 10 })).items;
      return rows.find((e) => e.dimensions.status_code !== 413);
    });
    expect(reset).toMatchObject({ ip: '127.0.0.1', action: 'POST', dimensions: { path: '/ingest' } });
    expect([400, 499]).toContain(reset.dimensions.status_code);
    expect(errors).toEqual([]);
  });
});
