/** Function instances of a running Nuvola, found through /proc (Linux only), and their memory. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const WORKER = 'bootstrap.worker.mjs';

/**
 * The instance processes started by the Nuvola process `nuvolaPid`. `loaded` tells a function's
 * instance from a spare: a spare's code directory (the one it may read, from its
 * `--allow-fs-read=…/code/` flag) is empty until a function's bundle is linked into it.
 *
 * Where Nuvola runs instances in namespaces of their own, its child is `unshare … -- node …`, a
 * process of 2 MB whose command line names the worker too; the instance is the node it forks.
 */
export function listInstances(nuvolaPid) {
  const processes = readProcesses();
  /** The child of `pid` that runs the worker, if any. */
  const workerChild = (pid) => [...processes].find(([, p]) => p.ppid === pid && p.args.some(isWorker))?.[0];
  const instances = [];
  for (const [pid, { ppid, args }] of processes) {
    if (ppid !== nuvolaPid || !args.some(isWorker)) continue;
    let leaf = pid;
    for (let child = workerChild(leaf); child !== undefined; child = workerChild(leaf)) leaf = child;
    const codeDir = processes.get(leaf).args.find((a) => a.startsWith('--allow-fs-read=') && a.endsWith('/code/'))?.slice('--allow-fs-read='.length);
    instances.push({ pid: leaf, loaded: codeDir !== undefined && existsSync(path.join(codeDir, 'index.mjs')) });
  }
  return instances;
}

const isWorker = (arg) => arg.endsWith(WORKER);

/** Every process's parent and command line, by pid. */
function readProcesses() {
  const processes = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      processes.set(pid, { ppid: parentOf(pid), args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') });
    } catch {
      // The process exited while we looked.
    }
  }
  return processes;
}

/** Proportional and resident set size in MB, from /proc/<pid>/smaps_rollup. */
export function memoryOf(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
  return { pid, pssMb: kb('Pss') / 1024, rssMb: kb('Rss') / 1024 };
}

function parentOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
