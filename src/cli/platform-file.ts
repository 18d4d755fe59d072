/**
 * A running `nuvola dev` records where it listens in its state directory (`.nuvola/platform.json`),
 * so that `nuvola invoke` and `nuvola logs` run in the app's directory find it without being told.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeStateFile } from '../config/state-file.js';

const FILE = 'platform.json';

interface Record {
  readonly url: string;
  readonly pid: number;
}

export function recordPlatform(stateDir: string, url: string): () => void {
  const file = path.join(stateDir, FILE);
  writeStateFile(file, JSON.stringify({ url, pid: process.pid } satisfies Record) + '\n');
  return () => {
    // Only our own record: a second platform on the same app may have replaced it.
    if (readRecord(file)?.pid === process.pid) rmSync(file, { force: true });
  };
}

/** The URL of the platform recorded in `stateDir`, if that platform is still running. */
export function recordedUrl(stateDir: string): string | undefined {
  const record = readRecord(path.join(stateDir, FILE));
  if (!record) return undefined;
  try {
    process.kill(record.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined; // left behind by a killed platform
  }
  return record.url;
}

function readRecord(file: string): Record | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<Record>;
    return typeof data.url === 'string' && Number.isInteger(data.pid) ? (data as Record) : undefined;
  } catch {
    return undefined;
  }
}
