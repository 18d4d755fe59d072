/**
 * The control API's bearer token: `NUVOLA_CONTROL_TOKEN` when set, else the one kept in the state
 * directory, created on first use. The CLI reads it the same way; functions never get it.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const FILE = 'control-token';

/** The token, from the environment or the state directory; undefined when neither has one. */
export function findControlToken(stateDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['NUVOLA_CONTROL_TOKEN']) return env['NUVOLA_CONTROL_TOKEN'];
  try {
    const stored = readFileSync(path.join(stateDir, FILE), 'utf8').trim();
    return stored === '' ? undefined : stored;
  } catch {
    return undefined;
  }
}

/** The token, made (256 random bits) and kept in the state directory if there is none. */
export function loadControlToken(stateDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const found = findControlToken(stateDir, env);
  if (found !== undefined) return found;
  const token = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return token;
}
