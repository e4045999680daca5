import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = import.meta.dirname;
const pkg = JSON.parse(readFileSync(join(src, '..', 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
  typesVersions: { '*': Record<string, string[]> };
};
const tsup = readFileSync(join(src, '..', 'tsup.config.ts'), 'utf8');

interface Edge {
  specifier: string;
  dynamic: boolean;
}

function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  // `import type` and `export type` vanish at build time, so they do not load anything.
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms))
    edges.push({ specifier: m[1]!, dynamic: false });
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) edges.push({ specifier: m[1]!, dynamic: false });
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) edges.push({ specifier: m[1]!, dynamic: true });
  return edges;
}

/** Every package a source entry loads: statically (at import time) or at all (including lazy imports). */
function packagesLoadedBy(entry: string): { eager: Set<string>; all: Set<string> } {
  const eager = new Set<string>();
  const all = new Set<string>();
  const seen = new Map<string, boolean>();
  const visit = (file: string, lazy: boolean) => {
    const before = seen.get(file);
    if (before !== undefined && (before === false || lazy)) return;
    seen.set(file, lazy);
    for (const edge of importsOf(file)) {
      const isLazy = lazy || edge.dynamic;
      if (edge.specifier.startsWith('.')) visit(resolve(dirname(file), edge.specifier.replace(/\.js$/, '.ts')), isLazy);
      else {
        all.add(edge.specifier);
        if (!isLazy) eager.add(edge.specifier);
      }
    }
  };
  visit(join(src, entry), false);
  return { eager, all };
}

const PROFILE_ENTRIES = ['native', 'new-api', 'xui-one', 'mediacp', 'unifi-access', 'proxy-logs'];

describe('subpath entries', () => {
  it('declares every profile as a subpath in exports, typesVersions and the build', () => {
    for (const name of [...PROFILE_ENTRIES, 'node', 'viewer-token']) {
      expect(pkg.exports[`./${name}`], name).toEqual({
        import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
        require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
      });
      expect(pkg.typesVersions['*'][name], name).toEqual([`./dist/${name}.d.ts`]);
      expect(tsup, name).toContain(`'src/${name}.ts'`);
      expect(() => readFileSync(join(src, `${name}.ts`)), name).not.toThrow();
    }
  });

  it('loads jose only with the proxy profile and the viewer tokens, and there only when a token is issued or checked', () => {
    for (const entry of ['native.ts', 'new-api.ts', 'xui-one.ts', 'mediacp.ts', 'unifi-access.ts', 'node.ts', 'handler.ts']) {
      expect([...packagesLoadedBy(entry).all], entry).not.toContain('jose');
    }
    const proxy = packagesLoadedBy('proxy-logs.ts');
    expect(proxy.all).toContain('jose');
    expect(proxy.eager).not.toContain('jose');
    const viewer = packagesLoadedBy('viewer-token.ts');
    expect(viewer.all).toContain('jose');
    expect(viewer.eager).not.toContain('jose');
    expect(packagesLoadedBy('index.ts').eager).not.toContain('jose');
  });

  it('keeps each profile out of the others: a profile entry loads no other profile folder', () => {
    for (const name of PROFILE_ENTRIES) {
      const files = new Set<string>();
      const visit = (file: string) => {
        if (files.has(file)) return;
        files.add(file);
        for (const edge of importsOf(file))
          if (edge.specifier.startsWith('.')) visit(resolve(dirname(file), edge.specifier.replace(/\.js$/, '.ts')));
      };
      visit(join(src, `${name}.ts`));
      const others = [...files].filter((f) => /[\\/]profiles[\\/]([\w-]+)[\\/]/.test(f) && !f.includes(`${join('profiles', name)}`));
      expect(others, name).toEqual([]);
    }
  });

  it('serves the same profiles from the root and from their subpaths', async () => {
    const root = await import('./index.js');
    expect(root.native).toBe((await import('./native.js')).native);
    expect(root.newApi).toBe((await import('./new-api.js')).newApi);
    expect(root.xuiOne).toBe((await import('./xui-one.js')).xuiOne);
    expect(root.mediaCp).toBe((await import('./mediacp.js')).mediaCp);
    expect(root.unifiAccess).toBe((await import('./unifi-access.js')).unifiAccess);
    expect(root.proxyLogs).toBe((await import('./proxy-logs.js')).proxyLogs);
  });
});
