/** Files of the state directory, written whole or not at all (a crash never leaves half a file). */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes `text` to `file` through a temporary file and a rename; `mode` 0o600 keeps a secret its owner's. */
export function writeStateFile(file: string, text: string, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}
