import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Drivers and the workspace packages stay imports: each store loads only its own driver.
  external: [/^@eventlog\//, 'better-sqlite3', 'pg', 'pg-copy-streams', 'mysql2', '@clickhouse/client', 'kysely', 'jiti'],
});
