import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@eventlog\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@eventlog\/adapters\/(\w+)$/, replacement: src('./packages/adapters/src/$1/index.ts') },
      { find: /^@eventlog\/http$/, replacement: src('./packages/http/src/index.ts') },
      { find: /^@eventlog\/http\/([\w-]+)$/, replacement: src('./packages/http/src/$1.ts') },
      { find: /^@eventlog\/express$/, replacement: src('./packages/express-middleware/src/index.ts') },
      { find: /^@eventlog\/viewer$/, replacement: src('./packages/viewer/src/index.ts') },
      { find: /^@eventlog\/cli$/, replacement: src('./packages/cli/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Threads, not forks: under forks, one run in several wedged with a test file's fork idle and its
    // result never reported, until the whole run was killed. The full suite passes alike in both.
    pool: 'threads',
    // Starts the loopback ClickHouse servers when installed (and stops them after), and fails a run
    // that leaves an example process behind.
    globalSetup: ['./scripts/test-setup/clickhouse.ts', './scripts/test-setup/processes.ts'],
  },
});
