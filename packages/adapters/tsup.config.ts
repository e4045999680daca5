import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    sqlite: 'src/sqlite/index.ts',
    postgres: 'src/postgres/index.ts',
    mysql: 'src/mysql/index.ts',
    clickhouse: 'src/clickhouse/index.ts',
    memory: 'src/memory/index.ts',
    kysely: 'src/kysely/index.ts',
    testing: 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // import.meta.url in the CommonJS build: the SQLite reader worker resolves better-sqlite3 from this module.
  shims: true,
  external: ['@eventlog/core', 'kysely', 'better-sqlite3', 'pg', 'pg-copy-streams', 'mysql2', '@clickhouse/client', 'vitest'],
});
