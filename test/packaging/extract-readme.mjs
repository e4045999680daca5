// Prints the README's usage example: the first ```ts block under "## Usage", unchanged.
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2], 'utf8');
const usage = text.indexOf('\n## Usage');
const block = usage < 0 ? null : /```ts\n([\s\S]*?)```/.exec(text.slice(usage));
if (!block) {
  console.error('README.md has no ```ts block under "## Usage"');
  process.exit(1);
}
process.stdout.write(`${block[1]}\nexport {};\n`);
