/**
 * The whole tour in one Express app: new-api, XUI.ONE, MediaCP, UniFi Access and the forward
 * proxy's admin API, each at its product's own paths, plus eventlog's native API under /eventlog,
 * all on one event log. The app's own requests are recorded by requestLogger and served by the
 * proxy API. Start it with `pnpm demo` from the repository root.
 */
import { fileURLToPath } from 'node:url';
import { mediaCpExample } from '@eventlog/example-mediacp';
import { newApiExample } from '@eventlog/example-new-api';
import { proxyExample } from '@eventlog/example-proxy';
import { env, main, shellQuote, viewerAuthenticate } from '@eventlog/example-shared';
import { unifiAccessExample } from '@eventlog/example-unifi-access';
import { xuiOneExample } from '@eventlog/example-xui-one';
import { createAudit } from '@eventlog/express';
import { bearerToken, native, safeEqual } from '@eventlog/http';
import express from 'express';

const nativeToken = () => env('EVENTLOG_API_TOKEN', 'demo-eventlog-token');

main({
  name: 'demo',
  title: 'eventlog demo: new-api, XUI.ONE, MediaCP, UniFi Access, the proxy admin API and the native API in one Express app',
  defaultPort: 3000,
  directory: fileURLToPath(new URL('..', import.meta.url)),
  modules: [newApiExample, xuiOneExample, mediaCpExample, unifiAccessExample, proxyExample],
  allowUnknownTypes: true,
  retentionDays: 30,
  extraProfiles: () => [
    native({
      // Viewer tokens (the printed viewer link) and the demo's static API token.
      authenticate: viewerAuthenticate((request) =>
        safeEqual(bearerToken(request) ?? '', nativeToken()) ? { role: 'admin', id: 'demo' } : null,
      ),
      title: 'eventlog demo',
    }),
  ],
  setup(app, log) {
    // The host app's own routes: requestLogger records them (route patterns included), audit() writes
    // rows the proxy API's /api/audit-log lists.
    const record = createAudit({ log, user: (req) => req.get('x-user') ?? 'anonymous' });
    app.get('/', (_req, res) => {
      res.json({
        name: 'eventlog demo',
        apis: {
          newApi: '/api/log/…',
          xuiOne: `/${env('XUI_ACCESS_CODE', 'cSbuFLhp')}/?api_key=…&action=…`,
          mediaCp: '/controller/EventLog…',
          unifiAccess: '/api/v1/developer/system/logs…',
          proxy: '/api/logs…',
          native: '/eventlog/events, /eventlog/openapi.json',
          viewer: '/eventlog/viewer (open the link printed at start)',
        },
      });
    });
    app.get('/hello/:name', (req, res) => {
      res.json({ hello: req.params.name });
    });
    app.post('/settings/:key', express.json(), async (req, res) => {
      await record(req, {
        action: 'update_settings',
        target: req.params.key,
        details: `Set ${req.params.key} to ${JSON.stringify(req.body?.value ?? null)}`,
      });
      res.json({ status: 'success' });
    });
  },
  extraBanner: (base) => {
    const auth = `-H ${shellQuote(`Authorization: Bearer ${nativeToken()}`)}`;
    return [
      `native API (/eventlog/…): EVENTLOG_API_TOKEN=${nativeToken()}; OpenAPI at ${base}/eventlog/openapi.json`,
      `  curl ${auth} ${shellQuote(`${base}/eventlog/events?limit=5`)}`,
      `  curl ${auth} ${shellQuote(`${base}/eventlog/stats?type=newapi.consume`)}`,
      `  curl ${auth} ${shellQuote(`${base}/eventlog/top?by=ip&limit=5`)}`,
      `  curl ${auth} ${shellQuote(`${base}/eventlog/sessions`)}`,
      `  curl ${auth} -N ${shellQuote(`${base}/eventlog/tail`)}   # live tail (server-sent events)`,
      `  curl ${auth} -X POST -H 'Content-Type: application/json' -d '{"type":"app.deploy","message":"v1.2.3"}' ${base}/eventlog/events`,
      `host routes, recorded by requestLogger: curl ${base}/hello/world ; curl -X POST -H 'x-user: alice' -H 'Content-Type: application/json' -d '{"value":30}' ${base}/settings/retention`,
      '',
    ];
  },
});
