/**
 * Stops `nuvola dev` when whoever started it goes away or is told to stop. `npm start` and `npx` run
 * their command through `sh -c` and forward SIGINT and SIGTERM to that shell only: SIGTERM kills the
 * shell, SIGINT is caught by it (it waits for its child, which never hears of it), and SIGHUP kills
 * npm alone. Either way the platform would keep serving with no one to stop it. Node has no "parent
 * died" signal, so the parent — and, when the parent is such a `sh -c` wrapper, the process that
 * started it — are polled; and since the wrapper sleeps in wait() for its whole life, any wake-up of
 * it (a rise in its context switches, Linux) is a signal it caught: a request to stop.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Often enough that a stopped `npm start` frees its port within a second. */
const POLL_MS = 250;
const SHELLS = new Set(['sh', 'dash', 'bash', 'zsh', 'ash', 'ksh']);

/**
 * Calls `onGone` once, with the reason, when a watched ancestor has exited or the shell wrapper was
 * signalled; returns the function that stops watching.
 */
export function watchParents(onGone: (why: string) => void, pollMs = POLL_MS): () => void {
  const parent = process.ppid;
  const watched = [parent];
  const grandparent = shellWrapperParent(parent);
  if (grandparent !== undefined) watched.push(grandparent);
  let wakeups = grandparent === undefined ? undefined : switchesOf(parent);
  // Stopped and continued as a job (Ctrl-Z, fg): the shell wakes to see its child stop, not to stop it.
  const rebase = () => (wakeups = grandparent === undefined ? undefined : switchesOf(parent));
  process.on('SIGCONT', rebase);
  const stop = () => {
    clearInterval(timer);
    process.removeListener('SIGCONT', rebase);
  };
  const timer = setInterval(() => {
    // Reparented (to init or a subreaper): the parent is gone, even if its pid was reused since.
    let why: string | undefined;
    if (process.ppid !== parent || !watched.every(alive)) why = 'the process that started Nuvola has exited';
    else if (wakeups !== undefined && (switchesOf(parent) ?? wakeups) > wakeups) why = 'the shell that runs Nuvola was signalled';
    if (why === undefined) return;
    stop();
    onGone(why);
  }, pollMs);
  timer.unref();
  return stop;
}

/** Voluntary context switches of `pid`: each is a wake-up from sleep. */
function switchesOf(pid: number): number | undefined {
  try {
    const m = /^voluntary_ctxt_switches:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The parent of `pid` when `pid` is a shell running `-c` (a script runner's wrapper); Linux only. */
function shellWrapperParent(pid: number): number | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!SHELLS.has(path.basename(argv[0] ?? '')) || argv[1] !== '-c') return undefined;
    const ppid = statOf(pid)?.ppid;
    return ppid !== undefined && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function statOf(pid: number): { state: string; ppid: number } | undefined {
  try {
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', ppid = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie has exited; it only waits for its own parent to notice.
  return statOf(pid)?.state !== 'Z';
}
