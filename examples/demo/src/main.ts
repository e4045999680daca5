/**
 * The whole tour in one Express app: new-api, XUI.ONE, MediaCP, UniFi Access and the forward
 * proxy's admin API, each at its product's own paths, plus eventlog's native API under /eventlog,
 * all on one event log. The app's own requests are recorded by requestLogger and served by the
 * proxy API. Start it with `pnpm demo` from the repository root.
 */
import { fileURLToPath } from 'node:url';
import { env, main, shellQuote } from '@eventlog/example-shared';
import { createAudit } from '@eventlog/express';
import express from 'express';
import { DEMO_MODULES, demoNativeProfile, nativeToken } from './modules.js';

main({
  name: 'demo',
  title: 'eventlog demo: new-api, XUI.ONE, MediaCP, UniFi Access, the proxy admin API and the native API in one Express app',
  defaultPort: 3000,
  directory: fileURLToPath(new URL('..', import.meta.url)),
  modules: DEMO_MODULES,
  allowUnknownTypes: true,
  retentionDays: 30,
  extraProfiles: () => [demoNativeProfile()],
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
