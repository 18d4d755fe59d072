/**
 * The developer's access key pair: `NUVOLA_ACCESS_KEY_ID` / `NUVOLA_SECRET_ACCESS_KEY` when both are
 * set (scripts, CI), else the pair kept in the state directory, created on first use. There is no
 * default secret: a key nobody chose is one nobody can guess.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { newAccessKey, type AccessKey } from '../core/access-keys.js';
import { writeStateFile } from './state-file.js';

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
  // Readable by its owner only: it opens every AWS endpoint of this platform.
  writeStateFile(file, JSON.stringify(key, null, 2) + '\n', 0o600);
  return { ...key, source: 'new' };
}
