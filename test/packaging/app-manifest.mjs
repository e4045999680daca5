// Writes the package.json of the packaging test's app: the packed tarballs, and the peers and
// tools a user would install, at the versions the workspace itself is tested with.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [root, tarballs] = process.argv.slice(2);
const workspace = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies;
const version = (name) => {
  if (!workspace[name]) throw new Error(`the workspace has no devDependency ${name}`);
  return workspace[name];
};
const dependencies = {};
for (const file of readdirSync(tarballs).filter((f) => f.endsWith('.tgz'))) {
  const name = JSON.parse(readFileSync(join(root, 'packages', packageDir(file), 'package.json'), 'utf8')).name;
  dependencies[name] = `file:${join(tarballs, file)}`;
}
for (const name of ['kysely', 'better-sqlite3', 'zod', 'express']) dependencies[name] = version(name);
const devDependencies = {};
for (const name of ['typescript', '@types/node', '@types/better-sqlite3', '@types/express']) devDependencies[name] = version(name);
// Installing @eventlog/adapters from its tarball must use the @eventlog/core tarball too, never
// the registry: the packed ranges are exact versions of unpublished packages.
const overrides = Object.fromEntries(
  Object.keys(dependencies)
    .filter((n) => n.startsWith('@eventlog/'))
    .map((n) => [n, `$${n}`]),
);
console.log(JSON.stringify({ name: 'eventlog-packaging-app', private: true, dependencies, devDependencies, overrides }, null, 2));

/** The packages/ folder a tarball came from, e.g. eventlog-express-0.1.0.tgz → express-middleware. */
function packageDir(file) {
  for (const dir of readdirSync(join(root, 'packages'))) {
    try {
      const { name, version: v } = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
      if (file === `${name.replace(/^@/, '').replace('/', '-')}-${v}.tgz`) return dir;
    } catch {
      // not a package
    }
  }
  throw new Error(`no package in packages/ packs to ${file}`);
}
