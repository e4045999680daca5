// Checks every packed tarball in a directory: it holds LICENSE, README.md and package.json, every
// file its `exports` map (and main/module/types) names, and no workspace: range is left in it.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const problems = [];
for (const tarball of readdirSync(dir).filter((f) => f.endsWith('.tgz'))) {
  const path = join(dir, tarball);
  const files = new Set(
    execFileSync('tar', ['-tzf', path], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, '')),
  );
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', path, 'package/package.json'], { encoding: 'utf8' }));
  const need = new Set(['LICENSE', 'README.md', 'package.json']);
  const targets = (entry) => {
    if (typeof entry === 'string') return [entry];
    if (entry && typeof entry === 'object') return Object.values(entry).flatMap(targets);
    return [];
  };
  for (const target of [...targets(manifest.exports ?? {}), manifest.main, manifest.module, manifest.types].filter(Boolean)) {
    need.add(target.replace(/^\.\//, ''));
  }
  for (const file of need) if (!files.has(file)) problems.push(`${tarball}: ${file} is missing`);
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${tarball}: ${field}.${name} is still "${range}"`);
    }
  }
  const license = execFileSync('tar', ['-xzOf', path, 'package/LICENSE'], { encoding: 'utf8' });
  if (!license.startsWith('MIT License') || manifest.license !== 'MIT') problems.push(`${tarball}: LICENSE is not the MIT license`);
  console.log(`${tarball}: ${files.size} files, ${need.size} required present`);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
