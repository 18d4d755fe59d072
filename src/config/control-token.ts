/**
 * The control API's bearer token: `NUVOLA_CONTROL_TOKEN` when set, else the one kept in the state
 * directory, created on first use. The CLI reads it the same way; functions never get it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeStateFile } from './state-file.js';

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
  writeStateFile(path.join(stateDir, FILE), `${token}\n`, 0o600);
  return token;
}
