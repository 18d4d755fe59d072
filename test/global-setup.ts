// Tests start real function instances from dist/bootstrap.worker.mjs and real `nuvola` processes
// from dist/: build them first, so that a lone `vitest run` tests the current source.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, [path.resolve(import.meta.dirname, '../scripts/build.js')], { stdio: 'inherit' });
}
