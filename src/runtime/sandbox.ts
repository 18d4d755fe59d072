/**
 * The kernel's wall around an instance, behind Node's permission model and the bootstrap's guards:
 *   - `users`: where the platform runs as root, each instance runs as a user of its own, an
 *     unprivileged uid and gid that no account uses, different for every instance. The kernel then
 *     stops it from signalling the platform or another instance and from entering another
 *     instance's temporary directory. It needs the node binary, the bootstrap and the instance
 *     directories to be reachable by such a user.
 *   - `namespaces`: elsewhere, where unprivileged user namespaces are allowed, each instance runs in
 *     a user and PID namespace of its own (`unshare`), as Lambda's sandbox user (uid 993): it sees
 *     no other process, so it can signal none.
 *   - `none`: neither is available; the guards inside the instance are all there is.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';

export const SANDBOX_MODES = ['auto', 'users', 'namespaces', 'none'] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

export type Sandbox =
  | { readonly kind: 'users'; readonly next: () => SandboxUser }
  | { readonly kind: 'namespaces' }
  | { readonly kind: 'none'; readonly reason: string };

/** Lambda runs functions as `sbx_user1051`, uid 993, gid 990. */
const LAMBDA_UID = 993;
const LAMBDA_GID = 990;

/** How `unshare` starts an instance in namespaces of its own; the node command line follows. */
export const NAMESPACE_ARGS = ['--user', `--map-user=${LAMBDA_UID}`, `--map-group=${LAMBDA_GID}`, '--pid', '--kill-child', '--'] as const;

/** The sandbox to use: as asked, or under `auto` the strongest this machine allows. */
export function chooseSandbox(mode: SandboxMode, files: readonly string[], dirs: readonly string[]): Sandbox {
  if (mode === 'none') return { kind: 'none', reason: 'the sandbox is off' };
  if (mode === 'users' || mode === 'auto') {
    const users = sandboxUsers(files, dirs);
    if (users.next) return { kind: 'users', next: users.next };
    if (mode === 'users') return { kind: 'none', reason: users.reason };
  }
  const namespaces = namespacesAvailable();
  return namespaces === true ? { kind: 'namespaces' } : { kind: 'none', reason: namespaces };
}

/** True where `unshare` can make user and PID namespaces here; else why not. */
function namespacesAvailable(): true | string {
  if (process.platform !== 'linux') return 'namespaces are Linux only';
  const probe = spawnSync('unshare', [...NAMESPACE_ARGS, 'true'], { stdio: 'ignore', timeout: 5_000 });
  if (probe.error) return `unshare is not available (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message})`;
  return probe.status === 0 ? true : 'this system does not allow unprivileged user namespaces';
}

export interface SandboxUser {
  readonly uid: number;
  readonly gid: number;
}

/** Far above the ids of accounts and of container user namespaces' usual maps. */
const FIRST_ID = 200_000;
const IDS = 100_000;

type SandboxUsers = { readonly next: () => SandboxUser } | { readonly next?: undefined; readonly reason: string };

/**
 * An allocator of instance users, or why there is none. `files` must be readable and `dirs`
 * searchable by any user, each with all its parent directories.
 */
function sandboxUsers(files: readonly string[], dirs: readonly string[]): SandboxUsers {
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
