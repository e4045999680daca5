// Credentials never reach the access log: a viewer token in the Authorization header, tokens in the
// query string and cookies are redacted, whatever lists the host passes.
import { native } from '@eventlog/http/native';
import { createViewerToken, viewerTokenAuth } from '@eventlog/http/viewer-token';
import { describe, expect, it } from 'vitest';
import { requestLogger } from './request-logger.js';
import { eventlogRouter } from './router.js';
import { flavours, listen, newLog, until } from './test-support.js';

const SECRET = 'request-logger-redaction-secret-0123456789';

describe.each(flavours)('requestLogger redaction on %s', (_name, express) => {
  it('records no viewer token, query token, Authorization header or cookie, even with the host lists emptied', async () => {
    const log = newLog();
    const app = express();
    // The host logs the API's own requests too, keeps the credential headers and replaces both
    // redaction lists: credentials are still redacted.
    app.use(
      requestLogger({
        log,
        skipEventlog: false,
        headers: ['authorization', 'cookie', 'x-trace'],
        redactHeaders: [],
        redactQuery: ['password'],
      }),
    );
    app.use(eventlogRouter({ log, profiles: [native({ authenticate: viewerTokenAuth({ secret: SECRET }) })] }));
    const base = await listen(app);
    const token = await createViewerToken({ secret: SECRET, principal: { role: 'admin', id: 'viewer' }, ttl: 60 });

    const ok = await fetch(`${base}/eventlog/events?token=query-secret-1&Access_Token=query-secret-2&type=x&password=p4ss`, {
      headers: { authorization: `Bearer ${token}`, cookie: 'session=cookie-secret', 'x-trace': 'trace-1' },
    });
    expect(ok.status).toBe(200);
    const refused = await fetch(`${base}/eventlog/whoami?access_token=${token}`);
    expect(refused.status).toBe(401);

    const events = await until(async () => {
      const page = await log.query({ filter: { type: 'proxy.request' }, sort: { field: 'id', direction: 'asc' } });
      return page.items.length >= 2 ? page.items : undefined;
    });
    const stored = JSON.stringify(await log.query({ limit: 100 }));
    for (const secret of [token, token.split('.')[2]!, 'query-secret-1', 'query-secret-2', 'cookie-secret', 'p4ss']) {
      expect(stored, secret).not.toContain(secret);
    }
    expect(events[0]!.data).toMatchObject({
      url: '/eventlog/events?token=%5BREDACTED%5D&Access_Token=%5BREDACTED%5D&type=x&password=%5BREDACTED%5D',
      headers: { authorization: '[REDACTED]', cookie: '[REDACTED]', 'x-trace': 'trace-1' },
    });
    expect(events[1]!.data).toMatchObject({ url: '/eventlog/whoami?access_token=%5BREDACTED%5D' });
  });
});
