/** Starts the mediacp example: `pnpm start` here, or `pnpm --filter @eventlog/example-mediacp start` from the root. */
import { fileURLToPath } from 'node:url';
import { main } from '@eventlog/example-shared';
import { mediaCpExample } from './module.js';

main({
  name: 'mediacp',
  title: 'MediaCP Stream Events (global and per-service event logs, categories, date ranges, CSV export, 30-day retention)',
  defaultPort: 3003,
  directory: fileURLToPath(new URL('..', import.meta.url)),
  modules: [mediaCpExample],
  retentionDays: 30,
});
