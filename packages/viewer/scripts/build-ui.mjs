// Bundles the viewer page (src/ui) into dist/ui: one content-hashed JavaScript file, one
// content-hashed stylesheet and manifest.json naming them. Fails when the gzipped JavaScript is
// over the budget. Skips the work when dist/ui is newer than every source file (--force rebuilds).
//
//   node scripts/build-ui.mjs [--force]
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** The most gzipped JavaScript the page may ship, in bytes. */
export const JS_BUDGET_BYTES = 100 * 1024;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'ui');
const out = join(root, 'dist', 'ui');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function upToDate() {
  const manifest = join(out, 'manifest.json');
  if (!existsSync(manifest)) return false;
  const inputs = [newestSource(source), statSync(fileURLToPath(import.meta.url)).mtimeMs, statSync(join(root, 'package.json')).mtimeMs];
  return statSync(manifest).mtimeMs > Math.max(...inputs);
}

if (!process.argv.includes('--force') && upToDate()) {
  console.log('viewer page: dist/ui is up to date');
  process.exit(0);
}

// Built beside and swapped in, so a server reading dist/ui never sees half a build.
const staging = `${out}.${process.pid}`;
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
const result = await build({
  entryPoints: { viewer: join(source, 'main.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: staging,
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`the build wrote ${outputs.join(', ')}: expected one .js and one .css`);
const jsGzipBytes = gzipSync(readFileSync(join(staging, js)), { level: 9 }).length;
const cssGzipBytes = gzipSync(readFileSync(join(staging, css)), { level: 9 }).length;
writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify({ js, css, jsGzipBytes, cssGzipBytes }, null, 2)}\n`);
if (jsGzipBytes > JS_BUDGET_BYTES) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`viewer page: ${js} is ${jsGzipBytes} bytes gzipped, over the ${JS_BUDGET_BYTES}-byte budget`);
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
renameSync(staging, out);
console.log(
  `viewer page: ${js} ${(jsGzipBytes / 1024).toFixed(1)} KiB gzipped (budget ${JS_BUDGET_BYTES / 1024} KiB), ${css} ${(cssGzipBytes / 1024).toFixed(1)} KiB gzipped`,
);
