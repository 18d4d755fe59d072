/**
 * Where the platform runs as root, each instance runs as a user of its own: an unprivileged uid and
 * gid that no account uses, different for every instance. The kernel then stops an instance from
 * signalling the platform or another instance and from reading another instance's temporary
 * directory, whatever gets past the permission model. It needs the node binary, the bootstrap and
 * the instance directories to be reachable by such a user; where they are not (an app under a
 * private home directory), instances run as the platform's user and the reason is told.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

export interface SandboxUser {
  readonly uid: number;
  readonly gid: number;
}

/** Far above the ids of accounts and of container user namespaces' usual maps. */
const FIRST_ID = 200_000;
const IDS = 100_000;

export type SandboxUsers = { readonly next: () => SandboxUser } | { readonly next?: undefined; readonly reason: string };

/**
 * An allocator of instance users, or why there is none. `files` must be readable and `dirs`
 * searchable by any user, each with all its parent directories.
 */
export function sandboxUsers(files: readonly string[], dirs: readonly string[]): SandboxUsers {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { reason: 'the platform does not run as root' };
  for (const file of files) {
    const problem = unreachable(file, 0o004) ?? ancestorsProblem(file);
    if (problem) return { reason: problem };
  }
  for (const dir of dirs) {
    const problem = ancestorsProblem(path.join(dir, 'x'));
    if (problem) return { reason: problem };
  }
  let n = 0;
  return {
    next: () => {
      const id = FIRST_ID + (n++ % IDS);
      return { uid: id, gid: id };
    },
  };
}

/** The first parent directory of `file` that other users cannot search, as a sentence. */
function ancestorsProblem(file: string): string | undefined {
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    const problem = unreachable(dir, 0o001);
    if (problem) return problem;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function unreachable(p: string, otherBit: number): string | undefined {
  let mode: number;
  try {
    mode = statSync(p).mode;
  } catch {
    return undefined; // made later (the instance directories): made searchable then
  }
  return (mode & otherBit) === 0 ? `${p} is not ${otherBit === 0o001 ? 'searchable' : 'readable'} by other users` : undefined;
}
