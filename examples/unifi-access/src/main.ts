/** Starts the unifi-access example: `pnpm start` here, or `pnpm --filter @eventlog/example-unifi-access start` from the root. */
import { fileURLToPath } from 'node:url';
import { main } from '@eventlog/example-shared';
import { unifiAccessExample } from './module.js';

main({
  name: 'unifi-access',
  title: 'UniFi Access system log API (topic fetch, CSV export with time zone, activity resources)',
  defaultPort: 3004,
  directory: fileURLToPath(new URL('..', import.meta.url)),
  modules: [unifiAccessExample],
});
