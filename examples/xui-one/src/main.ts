/** Starts the xui-one example: `pnpm start` here, or `pnpm --filter @eventlog/example-xui-one start` from the root. */
import { fileURLToPath } from 'node:url';
import { main } from '@eventlog/example-shared';
import { xuiOneExample } from './module.js';

main({
  name: 'xui-one',
  title: 'XUI.ONE logs & events API (eleven actions under /<access_code>/?api_key=…&action=…)',
  defaultPort: 3002,
  directory: fileURLToPath(new URL('..', import.meta.url)),
  modules: [xuiOneExample],
});
