/**
 * One function instance: an OS process running `bootstrap.worker.mjs` under Node's permission model.
 * It may read only the bootstrap and its own code directory, and write only its own temporary
 * directory. It starts empty (a spare) and is handed one function for its whole life.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, readdir, rm } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { chownSync, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { FunctionSpec } from '../ports/executor.js';
import { instanceFlags } from './node-flags.js';
import { procStat } from './proc-stat.js';
import { populateTaskRoot } from './task-root.js';
import { NAMESPACE_ARGS, type SandboxUser } from './sandbox.js';
import { checkFromInstance, encodeInvokeFrame, MESSAGE_LIMITS, type FromInstance, type Invoke, type LambdaErrorObject, type ToInstance } from './protocol.js';

export type Outcome = (
  | { kind: 'result'; payload: string; durationMs: number; maxRssKb: number }
  | { kind: 'failure'; error: LambdaErrorObject; durationMs: number; maxRssKb: number; fatal: boolean }
  | { kind: 'timeout'; durationMs: number; rssBytes: number | undefined }
  | { kind: 'exit'; how: string; outOfMemory: boolean; storageFull?: boolean; durationMs: number }
) & {
  /** Output of the invocation dropped past its limit. */
  dropped?: { lines: number; bytes: number };
};

export type LoadOutcome = { ok: true; initDurationMs: number } | { ok: false; error: LambdaErrorObject };

export interface InstanceOptions {
  readonly id: string;
  readonly memoryMb: number;
  readonly bootstrapPath: string;
  /** This instance's own directory; `code/` and `tmp/` are made below it. */
  readonly dir: string;
  /** Output lines outside the IPC channel (raw stdout/stderr writes) and console lines. */
  readonly onOutput: (instance: Instance, stream: 'stdout' | 'stderr', requestId: string | null, line: string) => void;
  readonly onExit: (instance: Instance) => void;
  /** Output an invocation (or the init) may write; past it, lines are dropped and counted. */
  readonly maxOutputBytes: number;
  /** The user the process runs as (the platform's own when undefined): see sandbox.ts. */
  readonly user?: SandboxUser | undefined;
  /** Start the process in user and PID namespaces of its own (see sandbox.ts). */
  readonly namespaces?: boolean | undefined;
}

/** Heap share of the memory setting: the rest is left to buffers, code and the runtime itself. */
const HEAP_SHARE = 0.85;
/** Lambda gives the init phase 10 s (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). */
export const INIT_TIMEOUT_MS = 10_000;
const STDERR_TAIL = 4096;
const STORAGE_WALK_LIMIT = 10_000;
/** The kernel's USER_HZ, the unit of /proc's CPU times: 100 on Linux everywhere in practice. */
const CLOCK_TICKS_PER_SECOND = 100;
const LAMBDA_PATH = '/usr/local/bin:/usr/bin/:/bin:/opt/bin';

/** Output written so far, and what was dropped past the limit. */
interface OutputCount {
  bytes: number;
  droppedLines: number;
  droppedBytes: number;
}

const noOutput = (): OutputCount => ({ bytes: 0, droppedLines: 0, droppedBytes: 0 });

interface Pending {
  readonly requestId: string;
  readonly started: number;
  /** `performance.now()` past which the invocation times out (see `expire`). */
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly resolve: (o: Outcome) => void;
  readonly output: OutputCount;
}

export class Instance {
  readonly id: string;
  readonly memoryMb: number;
  readonly codeDir: string;
  readonly tmpDir: string;
  readonly ready: Promise<void>;
  /** The function this instance was given, and the version of its code. */
  functionName: string | undefined;
  codeSha256: string | undefined;
  lastUsed = 0;
  /** The process booted (sent `ready`). */
  booted = false;
  dead = false;
  /** Set by the memory watch before it kills the process. */
  outOfMemory = false;
  /** Set by the storage watch before it kills the process. */
  storageFull = false;
  /** Invocations it runs at once: 1 until loaded, then the function's instance concurrency. */
  capacity = 1;
  /**
   * Takes no more invocations (one of several it ran at once timed out): it is stopped once the
   * others have answered or timed out in turn.
   */
  draining = false;
  private readonly child: ChildProcess;
  private readonly options: InstanceOptions;
  private readonly pending = new Map<string, Pending>();
  private loadWaiter: ((o: LoadOutcome) => void) | undefined;
  private stderrTail = '';
  private protocolProblem: string | undefined;
  /** In namespaces: the node process under `unshare`, whose memory is the instance's. */
  private innerPid: number | undefined;
  /** Invocations to send once the current turn of the event loop is done (instances running several at once). */
  private outbox: Invoke[] = [];
  /** Output not attributed to an invocation (the init's, or lines of several at once) since the instance was last idle. */
  private looseOutput = noOutput();

  constructor(options: InstanceOptions) {
    this.options = options;
    this.id = options.id;
    this.memoryMb = options.memoryMb;
    this.codeDir = path.join(options.dir, 'code');
    this.tmpDir = path.join(options.dir, 'tmp');
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((readyResolve = res), (readyReject = rej)));
    this.ready.catch(() => undefined);
    // The directories must exist before the process starts: it may not create them itself.
    mkdirSync(this.codeDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    // Its own temporary directory, which no other instance's user may enter.
    if (options.user) chownSync(this.tmpDir, options.user.uid, options.user.gid);
    const heapMb = Math.max(16, Math.floor(options.memoryMb * HEAP_SHARE));
    const node = [
      process.execPath,
      ...instanceFlags({ bootstrapPath: options.bootstrapPath, codeDir: this.codeDir, tmpDir: this.tmpDir }, heapMb),
      options.bootstrapPath,
    ];
    // In namespaces, `unshare` is the child and node its own child (pid 1 inside): see innerPid.
    const [command, ...args] = options.namespaces ? ['unshare', ...NAMESPACE_ARGS, ...node] : node;
    this.child = spawn(
      command!,
      args,
      {
        // fd 4: the thaw pipe; the instance blocks on it between invocations (bootstrap.worker.ts).
        stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
        // Nothing of the platform's own environment leaks in; the function's is set at load.
        env: { PATH: LAMBDA_PATH, TMPDIR: this.tmpDir, LANG: 'en_US.UTF-8', TZ: ':UTC' },
        // Lambda starts the runtime in its task root (/var/task), where the code is.
        cwd: this.codeDir,
        ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
      },
    );
    this.child.on('message', (raw: unknown) => {
      const checked = checkFromInstance(raw);
      if (!checked.ok) return this.violation(checked.problem);
      const msg = checked.msg;
      if (msg.type === 'ready') {
        if (options.namespaces) this.innerPid = childOf(this.child.pid);
        this.booted = true;
        readyResolve();
      } else {
        this.onMessage(msg);
      }
    });
    this.child.on('error', (err) => readyReject(err));
    // 'close', not 'exit': stderr must be read to its end to tell an out-of-memory abort.
    this.child.on('close', (code, signal) => {
      readyReject(new Error(`instance exited before it was ready (${signal ? `signal ${signal}` : `code ${code}`})`));
      this.onChildExit(code, signal);
    });
    this.pipeLines('stdout');
    this.pipeLines('stderr');
    // An instance that died leaves the thaw pipe broken: its next write fails, and is of no interest.
    this.child.stdio[4]?.on('error', () => undefined);
  }

  /** The node process's pid, as this platform sees it. */
  get pid(): number | undefined {
    return this.innerPid ?? this.child.pid;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Invocations in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The invocation a line of raw output belongs to: the one in flight, if there is only one. */
  private get soleInvocation(): Pending | undefined {
    if (this.pending.size !== 1) return undefined;
    for (const p of this.pending.values()) return p;
    return undefined;
  }

  /** Hands this spare its function: the bundle is linked into its code directory and imported. */
  async load(fn: {
    functionName: string;
    codeSha256: string;
    bundlePath: string;
    exportName: string;
    handler: string;
    functionArn: string;
    env: Record<string, string>;
    maxConcurrency: number;
    files?: FunctionSpec['files'];
  }): Promise<LoadOutcome> {
    this.functionName = fn.functionName;
    this.codeSha256 = fn.codeSha256;
    this.capacity = fn.maxConcurrency;
    const target = path.join(this.codeDir, 'index.mjs');
    // Synchronous: a few metadata operations, cheaper than as many trips through the thread pool
    // on the cold-start path.
    linkOrCopy(fn.bundlePath, target);
    if (existsSync(`${fn.bundlePath}.map`)) linkOrCopy(`${fn.bundlePath}.map`, `${target}.map`);
    populateTaskRoot(this.codeDir, fn.files);
    await this.ready;
    const outcome = new Promise<LoadOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.kill();
        resolve({ ok: false, error: { errorType: 'Runtime.InitTimeout', errorMessage: `Init phase did not finish within ${INIT_TIMEOUT_MS / 1000} seconds` } });
      }, INIT_TIMEOUT_MS);
      this.loadWaiter = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
    });
    this.send({
      type: 'load',
      functionName: fn.functionName,
      bundlePath: target,
      exportName: fn.exportName,
      handler: fn.handler,
      functionArn: fn.functionArn,
      memoryMb: this.memoryMb,
      env: fn.env,
      maxConcurrency: fn.maxConcurrency,
    });
    return outcome;
  }

  /**
   * Runs one invocation; it times out `timeoutMs` from now, as `expire` finds (the executor sweeps
   * every instance's deadlines at once, rather than a timer per invocation). Never rejects.
   */
  invoke(requestId: string, payload: string, timeoutMs: number, clientContext?: unknown): Promise<Outcome> {
    if (this.dead) return Promise.resolve({ kind: 'exit', how: 'instance stopped', outOfMemory: false, durationMs: 0 });
    const started = performance.now();
    return new Promise<Outcome>((resolve) => {
      this.pending.set(requestId, { requestId, started, deadline: started + timeoutMs, timeoutMs, resolve, output: noOutput() });
      const msg: Invoke = { type: 'invoke', requestId, payload, deadline: Date.now() + timeoutMs, clientContext };
      if (this.capacity === 1) {
        this.looseOutput = noOutput();
        this.thaw(msg);
      } else {
        // One message, and one write, for all the invocations of this turn.
        if (this.outbox.length === 0) setImmediate(() => this.flush());
        this.outbox.push(msg);
      }
    });
  }

  /**
   * Fails the invocations past their deadline. In the classic model the process is killed with its
   * one invocation (Lambda stops the environment). An instance running several at once is not: as on
   * Lambda Managed Instances, the others go on; it takes no new ones and is stopped once they are
   * done, so code that never ends still ends with the last of them.
   */
  expire(now: number): void {
    if (this.pending.size === 0) return;
    for (const p of [...this.pending.values()]) {
      if (now < p.deadline) continue;
      this.settle(p.requestId, { kind: 'timeout', durationMs: p.timeoutMs, rssBytes: this.rssBytes() });
      if (this.capacity === 1) this.kill();
      else this.draining = true;
    }
  }

  /**
   * Bytes of the files in the temporary directory. A directory too large to walk quickly (over
   * `STORAGE_WALK_LIMIT` entries) counts as full: a function that makes that many files is not
   * measured by reading them all on the platform's event loop.
   */
  async storageBytes(): Promise<number> {
    let total = 0;
    let entries = 0;
    const walk = async (dir: string): Promise<void> => {
      let names: Dirent[];
      try {
        names = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of names) {
        if (++entries > STORAGE_WALK_LIMIT) {
          total = Number.POSITIVE_INFINITY;
          return;
        }
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(p);
        else total += (await lstat(p).catch(() => undefined))?.size ?? 0;
      }
    };
    await walk(this.tmpDir);
    return total;
  }

  /** Resident set size in bytes, read from /proc (Linux); undefined where unavailable. */
  rssBytes(): number | undefined {
    const pid = this.pid;
    if (pid === undefined) return undefined;
    try {
      const statm = readFileSync(`/proc/${pid}/statm`, 'latin1');
      return Number(statm.split(' ')[1]) * 4096;
    } catch {
      return undefined;
    }
  }

  /** CPU time of the process at the last `cpuShare` call: clock ticks, and when. */
  private cpuMark: { ticks: number; at: number } | undefined;

  /**
   * Share of one CPU the process used since the previous call (Linux: `/proc/<pid>/stat`), or
   * undefined where unknown or on the first call.
   */
  cpuShare(now: number): number | undefined {
    const pid = this.pid;
    if (pid === undefined) return undefined;
    const fields = procStat(pid);
    if (!fields) return undefined;
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    const last = this.cpuMark;
    this.cpuMark = { ticks, at: now };
    if (!last || now <= last.at) return undefined;
    return ((ticks - last.ticks) * (1000 / CLOCK_TICKS_PER_SECOND)) / (now - last.at);
  }

  /** Elapsed ms of the oldest invocation in flight, if any. */
  busyFor(now: number): number {
    let oldest = now;
    for (const p of this.pending.values()) oldest = Math.min(oldest, p.started);
    return now - oldest;
  }

  kill(): void {
    if (!this.dead && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  async dispose(): Promise<void> {
    this.kill();
    await rm(path.dirname(this.codeDir), { recursive: true, force: true }).catch(() => undefined);
  }

  /** A line of `invocation` (or of none), within its output limit. */
  private emit(stream: 'stdout' | 'stderr', line: string, invocation: Pending | undefined): void {
    const count = invocation?.output ?? this.looseOutput;
    const size = line.length + 1;
    if (count.bytes + size > this.options.maxOutputBytes) {
      count.droppedLines++;
      count.droppedBytes += size;
      return;
    }
    count.bytes += size;
    this.options.onOutput(this, stream, invocation?.requestId ?? null, line);
  }

  /** Wakes the instance, frozen since its last answer (or its init), with its next invocation. */
  private thaw(msg: Invoke): void {
    const pipe = this.child.stdio[4] as NodeJS.WritableStream | null | undefined;
    if (pipe && !(pipe as { destroyed?: boolean }).destroyed) pipe.write(encodeInvokeFrame(msg));
  }

  private flush(): void {
    const invokes = this.outbox;
    this.outbox = [];
    if (invokes.length === 1) this.send(invokes[0]!);
    else if (invokes.length > 1) this.send({ type: 'invokes', invokes });
  }

  private send(msg: ToInstance): void {
    if (!this.child.connected) return;
    this.child.send(msg);
  }

  private settle(requestId: string, outcome: Outcome): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    if (this.pending.size === 0) this.looseOutput = noOutput();
    const { droppedLines: lines, droppedBytes: bytes } = p.output;
    p.resolve(lines > 0 ? { ...outcome, dropped: { lines, bytes } } : outcome);
  }

  private onMessage(msg: FromInstance): void {
    switch (msg.type) {
      case 'log':
        // Alone, the invocation the platform knows is running, whatever the message claims: a
        // function must not write into another invocation's log tail. Among several in flight, the
        // one it names (they are the same function's, in one process), or none.
        this.emit('stdout', cut(msg.line), this.capacity === 1 ? this.soleInvocation : msg.requestId === null ? undefined : this.pending.get(msg.requestId));
        return;
      case 'loaded':
        this.loadWaiter?.({ ok: true, initDurationMs: msg.initDurationMs });
        this.loadWaiter = undefined;
        return;
      case 'init-failed':
        this.loadWaiter?.({ ok: false, error: msg.error });
        this.loadWaiter = undefined;
        return;
      case 'result':
        this.settle(msg.requestId, { kind: 'result', payload: msg.payload, durationMs: msg.durationMs, maxRssKb: msg.maxRssKb });
        return;
      case 'failure':
        this.settle(msg.requestId, { kind: 'failure', error: msg.error, durationMs: msg.durationMs, maxRssKb: msg.maxRssKb, fatal: msg.fatal });
        return;
      case 'batch':
        for (const m of msg.messages) this.onMessage(m);
        return;
      case 'ready':
        return;
    }
  }

  /** The instance broke the protocol: it is killed, and its invocation fails with the reason. */
  private violation(problem: string): void {
    if (this.protocolProblem === undefined) this.protocolProblem = problem;
    this.kill();
  }

  private onChildExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.dead = true;
    const outOfMemory = this.outOfMemory || /heap out of memory|Reached heap limit/.test(this.stderrTail);
    const how =
      this.protocolProblem !== undefined
        ? `invalid message from the runtime (${this.protocolProblem})`
        : signal === 'SIGKILL' ? 'signal: killed' : signal ? `signal: ${signal.toLowerCase()}` : `exit status ${code ?? 0}`;
    const now = performance.now();
    for (const p of [...this.pending.values()]) {
      this.settle(p.requestId, { kind: 'exit', how, outOfMemory, storageFull: this.storageFull, durationMs: now - p.started });
    }
    this.loadWaiter?.({
      ok: false,
      error: { errorType: outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError', errorMessage: `Runtime exited during init: ${how}` },
    });
    this.loadWaiter = undefined;
    this.options.onExit(this);
  }

  private pipeLines(stream: 'stdout' | 'stderr'): void {
    const readable = this.child[stream];
    if (!readable) return;
    readable.setEncoding('utf8');
    let rest = '';
    // Output without a newline must not grow without bound: past the line limit the line so far is
    // written, cut, and the rest of it up to the next newline dropped.
    let dropping = false;
    readable.on('data', (chunk: string) => {
      if (stream === 'stderr') this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL);
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!dropping) this.emit(stream, cut(line), this.soleInvocation);
        dropping = false;
      }
      if (rest.length > MESSAGE_LIMITS.MAX_LOG_LINE_CHARS) {
        if (!dropping) this.emit(stream, cut(rest), this.soleInvocation);
        dropping = true;
        rest = '';
      }
    });
    readable.on('end', () => {
      if (rest) this.emit(stream, rest, this.soleInvocation);
    });
  }
}

/** The one child of `pid` (Linux: `/proc/<pid>/task/<pid>/children`). */
function childOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(' ')[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

export const CUT_SUFFIX = '… [truncated]';

/** A log line of at most `MAX_LOG_LINE_CHARS`. */
function cut(line: string): string {
  return line.length <= MESSAGE_LIMITS.MAX_LOG_LINE_CHARS ? line : line.slice(0, MESSAGE_LIMITS.MAX_LOG_LINE_CHARS - CUT_SUFFIX.length) + CUT_SUFFIX;
}

function linkOrCopy(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    // Another file system (EXDEV) or no hard links: a copy serves as well.
    copyFileSync(from, to);
  }
}
