/** Starts the new-api example: `pnpm start` here, or `pnpm --filter @eventlog/example-new-api start` from the root. */
import { fileURLToPath } from 'node:url';
import { main } from '@eventlog/example-shared';
import { newApiExample } from './module.js';

main({
  name: 'new-api',
  title: 'new-api log module (admin, self and token log queries, RPM/TPM stats, search, staged deletion)',
  defaultPort: 3001,
  directory: fileURLToPath(new URL('..', import.meta.url)),
  modules: [newApiExample],
});
