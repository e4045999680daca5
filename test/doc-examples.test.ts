import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const scratch = join(root, '.eventlog-tmp', 'doc-examples');

interface Example {
  origin: string;
  code: string;
}

function readmeExamples(): Example[] {
  const files = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
  ];
  const packages = readdirSync(join(root, 'packages')).map((p) => join('packages', p, 'README.md'));
  const examples: Example[] = [];
  for (const file of [...files, ...packages]) {
    let text: string;
    try {
      text = readFileSync(join(root, file), 'utf8');
    } catch {
      continue;
    }
    let n = 0;
    // Every TypeScript fence counts, whatever its info string says (`ts`, `typescript`, `tsx`, `mts`).
    for (const match of text.matchAll(/```(?:ts|typescript|tsx|mts)\n([\s\S]*?)```/g))
      examples.push({ origin: `${file} block ${++n}`, code: match[1] ?? '' });
  }
  return examples;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (path.endsWith('.ts') && !path.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function tsdocExamples(): Example[] {
  const examples: Example[] = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const src = join(root, 'packages', pkg, 'src');
    try {
      statSync(src);
    } catch {
      continue;
    }
    for (const file of sourceFiles(src)) {
      const text = readFileSync(file, 'utf8');
      let n = 0;
      for (const match of text.matchAll(/@example\s*\n\s*\*\s*```ts\n([\s\S]*?)\s*\*\s*```/g)) {
        const code = (match[1] ?? '').replace(/^\s*\* ?/gm, '');
        examples.push({ origin: `${relative(root, file)} @example ${++n}`, code });
      }
    }
  }
  return examples;
}

function typeCheck(examples: Example[]): string[] {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const files = examples.map((example, i) => {
    const path = join(scratch, `example-${i}.ts`);
    // Each example is its own module, so top-level await and local names do not clash.
    writeFileSync(path, `${example.code}\nexport {};\n`);
    return path;
  });
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram(files, { ...parsed.options, noEmit: true, noUnusedLocals: false });
  const problems: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const index = diagnostic.file ? files.indexOf(diagnostic.file.fileName) : -1;
    const origin = index >= 0 ? examples[index]!.origin : (diagnostic.file?.fileName ?? 'program');
    problems.push(`${origin}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
  }
  return problems;
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('documentation examples', () => {
  it('every ```ts block in the READMEs and docs and every TSDoc @example type-checks', () => {
    const examples = [...readmeExamples(), ...tsdocExamples()];
    expect(examples.length).toBeGreaterThan(10);
    // Every package README with TypeScript in it is part of the check.
    for (const pkg of ['http', 'express-middleware'])
      expect(
        examples.some((e) => e.origin.startsWith(join('packages', pkg, 'README.md'))),
        pkg,
      ).toBe(true);
    expect(typeCheck(examples)).toEqual([]);
  }, 120_000);
});
