import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'tsup';

// The export child is measured for peak RSS. Run through tsx, it would carry the TypeScript
// loader (~90 MB on this machine) that no host running compiled JavaScript pays, so it is bundled
// to plain JavaScript first, as a host's build would. Database drivers stay external (native
// addons cannot be bundled) and are imported from where the adapters package resolves them.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DRIVERS = /^(better-sqlite3|pg|pg-copy-streams|mysql2|@clickhouse\/client)(\/.*)?$/;

/** Bundles `bench/export-child.ts` into `outDir`; returns the file, or the reason it failed. */
export async function bundleExportChild(outDir: string): Promise<{ file: string } | { error: string }> {
  const fromAdapters = createRequire(join(ROOT, 'packages/adapters/package.json'));
  const fromRoot = createRequire(join(ROOT, 'package.json'));
  try {
    await build({
      entry: { 'export-child': join(ROOT, 'bench/export-child.ts') },
      outDir,
      format: ['esm'],
      platform: 'node',
      target: 'node20',
      outExtension: () => ({ js: '.mjs' }),
      tsconfig: join(ROOT, 'tsconfig.json'),
      config: false,
      dts: false,
      sourcemap: false,
      // Each engine module (and the driver it imports) in its own chunk, loaded when the child asks
      // for that engine: in one file, every driver was imported at start-up, ~15 MB of baseline RSS
      // that a host exporting from one database never loads.
      splitting: true,
      clean: false,
      silent: true,
      noExternal: [/.*/],
      esbuildPlugins: [
        {
          name: 'external-drivers',
          setup(pluginBuild) {
            pluginBuild.onResolve({ filter: DRIVERS }, (args) => {
              let resolved: string;
              try {
                resolved = fromAdapters.resolve(args.path);
              } catch {
                resolved = fromRoot.resolve(args.path);
              }
              return { path: pathToFileURL(resolved).href, external: true };
            });
          },
        },
      ],
    });
    return { file: join(outDir, 'export-child.mjs') };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
