// Writes src/api-types.ts, the page's API types, from ../openapi.yaml with
// openapi-typescript (`npm run api-types`). With --check it writes nothing and fails
// when the checked-in file differs from a fresh generation (`npm run typecheck`).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const SOURCE = new URL('../../openapi.yaml', import.meta.url);
const TARGET = new URL('../src/api-types.ts', import.meta.url);

const HEADER = `// Generated from openapi.yaml by openapi-typescript: do not edit. After changing
// openapi.yaml, run \`npm run api-types\` in web/ to write this file again;
// \`npm run typecheck\` fails while it differs from a fresh generation.

`;

const check = process.argv.includes('--check');
const unknown = process.argv.slice(2).filter((a) => a !== '--check');
if (unknown.length > 0) {
  console.error(`usage: node scripts/api-types.mjs [--check] (unknown: ${unknown.join(' ')})`);
  process.exit(2);
}

// `silent` keeps openapi-typescript's own messages out; a document it cannot read
// still throws and fails the command.
const fresh = HEADER + astToString(await openapiTS(SOURCE, { silent: true }));
const target = fileURLToPath(TARGET);

if (!check) {
  await writeFile(TARGET, fresh);
  console.log(`wrote ${target}`);
  process.exit(0);
}

let current = null;
try {
  current = (await readFile(TARGET, 'utf8')).replace(/\r\n/g, '\n');
} catch (e) {
  if (e.code !== 'ENOENT') throw e;
}
if (current === fresh) process.exit(0);

if (current === null) {
  console.error(`${target} is missing: run \`npm run api-types\` in web/.`);
} else {
  const a = current.split('\n');
  const b = fresh.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  console.error(
    `${target} is not what openapi.yaml generates: run \`npm run api-types\` in web/.\n` +
      `first difference at line ${i + 1}:\n` +
      `  checked in: ${a[i] ?? '(end of file)'}\n` +
      `  generated:  ${b[i] ?? '(end of file)'}`,
  );
}
process.exit(1);
