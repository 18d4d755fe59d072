/**
 * The developer's access key pair: `NUVOLA_ACCESS_KEY_ID` / `NUVOLA_SECRET_ACCESS_KEY` when both are
 * set (scripts, CI), else the pair kept in the state directory, created on first use. There is no
 * default secret: a key nobody chose is one nobody can guess.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { newAccessKey, type AccessKey } from '../core/access-keys.js';

const FILE = 'credentials.json';

export interface DeveloperKey extends AccessKey {
  /** Where it came from, for messages. */
  readonly source: 'environment' | 'state directory' | 'new';
}

export function loadDeveloperKey(stateDir: string, env: NodeJS.ProcessEnv = process.env): DeveloperKey {
  const id = env['NUVOLA_ACCESS_KEY_ID'];
  const secret = env['NUVOLA_SECRET_ACCESS_KEY'];
  if (id || secret) {
    if (!id || !secret) throw new Error('Set both NUVOLA_ACCESS_KEY_ID and NUVOLA_SECRET_ACCESS_KEY, or neither');
    return { accessKeyId: id, secretAccessKey: secret, source: 'environment' };
  }
  const file = path.join(stateDir, FILE);
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<AccessKey>;
    if (typeof stored.accessKeyId === 'string' && typeof stored.secretAccessKey === 'string') {
      return { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey, source: 'state directory' };
    }
  } catch {
    // none yet, or unreadable: a new pair replaces it
  }
  const key = newAccessKey('AKIA');
  mkdirSync(stateDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  // Readable by its owner only: it opens every AWS endpoint of this platform.
  writeFileSync(tmp, JSON.stringify(key, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  return { ...key, source: 'new' };
}
