// @ts-check
/**
 * TypeDoc plugin for this repository: the entry points are read from every package's `exports`
 * map (so a new subpath is documented without touching typedoc.json), and each module is named
 * after the import a user writes (`@eventlog/core`, `@eventlog/adapters/sqlite`, …) instead of
 * its source folder (`core/src`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, Converter, ReflectionKind } from 'typedoc';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The tsup `entry` map of a package (output name → source file), read from its config text. */
function tsupEntries(dir) {
  const file = join(dir, 'tsup.config.ts');
  if (!existsSync(file)) return new Map();
  const text = readFileSync(file, 'utf8');
  const entries = new Map();
  for (const match of text.matchAll(/['"]?([\w./-]+)['"]?\s*:\s*['"](src\/[^'"]+\.ts)['"]/g)) {
    entries.set(match[1], match[2]);
  }
  return entries;
}

/** The ESM output file an `exports` entry points at (`./dist/sqlite.js`), whatever its nesting. */
function esmTarget(entry) {
  if (typeof entry === 'string') return entry;
  if (!entry || typeof entry !== 'object') return null;
  for (const key of ['import', 'default', 'require']) {
    const found = esmTarget(entry[key]);
    if (found && !found.endsWith('.d.ts') && !found.endsWith('.d.cts')) return found;
  }
  return null;
}

/**
 * Every public module of every package: its source file and the name a user imports it by.
 * Throws when an export has no source file it can be traced to, so the docs never silently miss one.
 */
export function publicModules() {
  const modules = [];
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    const dir = join(root, 'packages', name);
    const manifestFile = join(dir, 'package.json');
    if (!existsSync(manifestFile)) continue;
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    if (manifest.private) continue;
    const entries = tsupEntries(dir);
    for (const [subpath, entry] of Object.entries(manifest.exports ?? {})) {
      if (subpath === './package.json' || subpath.includes('*')) continue;
      const target = esmTarget(entry);
      const sub = subpath === '.' ? 'index' : subpath.slice(2);
      const outName = target ? target.replace(/^\.\/dist\//, '').replace(/\.(m|c)?js$/, '') : sub;
      const candidates = [
        entries.get(outName),
        entries.get(basename(outName)),
        `src/${outName}.ts`,
        `src/${outName}/index.ts`,
        `src/${sub}.ts`,
        `src/${sub}/index.ts`,
      ].filter((c) => typeof c === 'string');
      const source = candidates.map((c) => join(dir, c)).find((c) => existsSync(c));
      if (!source) {
        throw new Error(`docs: cannot find the source of ${manifest.name} export "${subpath}" (tried ${candidates.join(', ')})`);
      }
      modules.push({ name: subpath === '.' ? manifest.name : `${manifest.name}/${sub}`, source });
    }
  }
  return modules;
}

/**
 * Plugin entry TypeDoc calls: sets the entry points once the options are read, and renames the
 * modules before links are resolved, so URLs and cross-references use the package names.
 * @param {Application} app
 */
export function load(app) {
  const modules = publicModules();
  const byFile = new Map(modules.map((m) => [m.source, m.name]));
  app.on(Application.EVENT_BOOTSTRAP_END, () => {
    app.options.setValue(
      'entryPoints',
      modules.map((m) => relative(root, m.source)),
    );
  });
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const symbol = context.getSymbolFromReflection(reflection);
      const file = symbol?.declarations?.[0]?.getSourceFile().fileName;
      const name = file ? byFile.get(resolve(file)) : undefined;
      if (name) reflection.name = name;
      else app.logger.warn(`docs: module "${reflection.name}" is not a package export`);
    }
  });
}
