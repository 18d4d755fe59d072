// Refreshes test/conformance/ from a newer copy of the public conformance data set:
//   node scripts/refresh-conformance.js <folder>
// Every data folder of the source replaces ours; jsonpath/ is left out (its cases are GPL-licensed).
// Our README.md and LICENSES/ stay: update their tables by hand when a new source appears.
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const EXCLUDED = new Set(['jsonpath', 'README.md', 'LICENSES']);
const from = process.argv[2];
if (!from || !existsSync(from) || !statSync(from).isDirectory()) {
  console.error('usage: node scripts/refresh-conformance.js <folder holding eventbridge/, asl/, sigv4/, …>');
  process.exit(2);
}
const to = path.resolve(import.meta.dirname, '../test/conformance');
for (const name of readdirSync(from)) {
  if (EXCLUDED.has(name)) continue;
  rmSync(path.join(to, name), { recursive: true, force: true });
  cpSync(path.join(from, name), path.join(to, name), { recursive: true });
  console.log(`refreshed ${name}/`);
}
