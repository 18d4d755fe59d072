/**
 * The files a function includes beside its code (`package.include`), put into an instance's task
 * root at the paths the handler reads them from, as they lie in `/var/task` on Lambda. They are
 * hard links to the build's copy, not symbolic links or paths elsewhere: under the permission model
 * an instance may read only its own code directory, and a link is checked by the path it is opened
 * by, not by the path it points to.
 */
import { constants, copyFileSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { FunctionSpec } from '../ports/executor.js';

/** Link failures a copy answers: another file system (EXDEV), or one without hard links. */
const COPY_INSTEAD = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * Links each of `files.paths` from `files.root` into `codeDir`, making the directories they need.
 * Synchronous, as the bundle's own link in `Instance.load`: a few metadata operations each, cheaper
 * than as many trips through the thread pool on the cold-start path. Measured on the project's test
 * VM (ext4): a link costs about 20 µs and a directory about 1 ms, so `data/*.json` adds a millisecond
 * or two to a cold start, and thousands of files in many directories tens of ms.
 * Throws on a path that would leave `codeDir`: the spec comes from the bundler, which never makes one.
 */
export function populateTaskRoot(codeDir: string, files: FunctionSpec['files']): void {
  if (!files || files.paths.length === 0) return;
  const made = new Set<string>([codeDir]);
  for (const rel of files.paths) {
    const to = path.join(codeDir, rel);
    if (path.isAbsolute(rel) || !to.startsWith(codeDir + path.sep)) throw new Error(`included file ${JSON.stringify(rel)} is outside the task root`);
    const dir = path.dirname(to);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    linkOrCopy(path.join(files.root, rel), to);
  }
}

function linkOrCopy(from: string, to: string, again = false): void {
  try {
    linkSync(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    // Loaded twice into one directory: the newer copy wins.
    if (code === 'EEXIST' && !again) {
      rmSync(to, { force: true });
      return linkOrCopy(from, to, true);
    }
    if (!COPY_INSTEAD.has(code)) throw err;
    copyFileSync(from, to, constants.COPYFILE_FICLONE);
  }
}
