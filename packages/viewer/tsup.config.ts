import { defineConfig } from 'tsup';

export default defineConfig({
  // The page itself (src/ui) is bundled by scripts/build-ui.mjs into dist/ui; this builds the server side.
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // import.meta.url in the CommonJS build, to find dist/ui next to the module.
  shims: true,
});
