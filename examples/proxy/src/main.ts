/** Starts the proxy example: `pnpm start` here, or `pnpm --filter @eventlog/example-proxy start` from the root. */
import { fileURLToPath } from 'node:url';
import { main } from '@eventlog/example-shared';
import { proxyExample } from './module.js';

main({
  name: 'proxy',
  title: "A forward proxy's logs & analytics admin API, fed by requestLogger on its own traffic plus seeded proxy records",
  defaultPort: 3005,
  directory: fileURLToPath(new URL('..', import.meta.url)),
  modules: [proxyExample],
});
