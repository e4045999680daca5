import { defineConfig } from 'tsup';

// Drivers and the workspace packages stay imports: each store loads only its own driver.
const external = [/^@eventlog\//, 'better-sqlite3', 'pg', 'pg-copy-streams', 'mysql2', '@clickhouse/client', 'kysely', 'jiti'];

export default defineConfig([
  {
    // The library entry, for hosts that script the commands: ESM and CommonJS like the other packages.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    shims: true,
    target: 'node20',
    external,
  },
  {
    // The `eventlog` binary: ESM only (it awaits at top level).
    entry: { bin: 'src/bin.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'node20',
    external,
  },
]);
