/**
 * The `Executor` of the embedded platform: function instances as OS processes on this machine.
 * Lambda's scaling model: an instance serves one request at a time (or up to the function's instance
 * concurrency); a request that finds no free instance waits for one or gets a new one (from a
 * pre-started spare; see FunctionPool for when), unless the function's reserved concurrency or the
 * platform's limit is reached, in which case it is throttled. Instances start a few at a time
 * (`startsAtOnce`): a burst does not fork dozens of processes while serving.
 */
import os from 'node:os';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { PlatformError } from '../core/errors.js';
import { functionArn } from '../core/lambda.js';
import type { Clock } from '../ports/clock.js';
import type { Executor, ExecutorStats, FunctionSpec, InvokeOptions, InvokeResult, LogRecord, ProbeResult } from '../ports/executor.js';
import { functionEnvironment, type PlatformIdentity } from './environment.js';
import { FunctionPool } from './function-pool.js';
import type { Instance, LoadOutcome } from './instance.js';
import { CpuMeter } from './cpu-meter.js';
import { procStat } from './proc-stat.js';
import { chooseSandbox, type SandboxMode } from './sandbox.js';
import { Spares } from './spares.js';

export interface ProcessExecutorOptions {
  /** Directory for instance code and temporary directories (emptied on start and close). */
  readonly dir: string;
  readonly bootstrapPath: string;
  readonly clock: Clock;
  readonly identity: PlatformIdentity;
  readonly onLog: (record: LogRecord) => void;
  /** Concurrent executions across all functions (Lambda's account concurrency). */
  readonly maxConcurrency: number;
  /** An instance idle this long is stopped (scale to zero); provisioned ones stay. */
  readonly idleTimeoutMs: number;
  /** Pre-started empty instances kept per memory size; more while cold starts come faster (spares.ts). */
  readonly sparesPerMemorySize: number;
  /**
   * Instances loading at once, at most, across functions; default four per CPU (a load from a booted
   * spare is the handler's import, milliseconds; FunctionPool bounds one function's starts to a CPU each).
   */
  readonly startsAtOnce?: number;
  /** Output one invocation may write (characters of its lines); default 10 MiB. */
  readonly maxOutputBytesPerInvocation?: number;
  /** The kernel's wall around instances (sandbox.ts); default `auto`, the strongest available. */
  readonly sandbox?: SandboxMode;
  /** Told once when instances run without the kernel's wall, and why. */
  readonly onWarning?: (message: string) => void;
}

/** Past this much output an invocation's lines are dropped and counted: a log is for reading. */
export const DEFAULT_MAX_OUTPUT_BYTES = 10 * 1024 * 1024;

/** How often deadlines are swept (the lateness of a timeout, at most). */
const WATCH_MS = 25;
/** Busy instances' memory is read once they ran this long (shorter ones report their own peak). */
const MEMORY_WATCH_MS = 50;
/** Loads at once per CPU, across functions (see `startsAtOnce`). */
const STARTS_PER_CPU = 4;
/** Between two rounds of spare starts, so that requests are served between them. */
const REFILL_PAUSE_MS = 5;
/** Share of one CPU past which an instance running several invocations at once counts as saturated. */
const INSTANCE_CPU_SATURATED = 0.9;
/** How often the machine's CPU load is sampled. */
const CPU_SAMPLE_MS = 100;
/** How often busy instances' temporary directories are measured (a walk of the directory). */
const STORAGE_WATCH_MS = 500;

export class ProcessExecutor implements Executor {
  private readonly options: ProcessExecutorOptions;
  private readonly spares: Spares;
  private readonly pools = new Map<string, FunctionPool>();
  private readonly owners = new Map<Instance, FunctionPool>();
  /** Instances loaded by `probe`, until their process has exited (its last output is read by then). */
  private readonly probes = new Set<Instance>();
  private readonly watch: NodeJS.Timeout;
  private cancelReap: (() => void) | undefined;
  private lastStorageWatch = 0;
  private lastCpuSample = 0;
  private readonly cpu = new CpuMeter();
  /** Instance starts under way, and those waiting for their turn. */
  private starts = 0;
  private readonly startQueue: (() => void)[] = [];
  private refillScheduled = false;
  private closed = false;
  /** Executions in flight across all functions. */
  active = 0;

  constructor(options: ProcessExecutorOptions) {
    this.options = options;
    removeStaleSiblings(options.dir);
    markOwner(options.dir);
    // The bootstrap is copied beside the instances: the paths an instance may read then share one
    // directory. Node's permission model lets a process list `/` when its allowed paths lie under
    // different top-level directories (seen on 20.20 and 24.21).
    const bootstrapPath = path.join(options.dir, 'bootstrap.worker.mjs');
    copyFileSync(options.bootstrapPath, bootstrapPath);
    chmodSync(bootstrapPath, 0o644);
    const sandbox = chooseSandbox(options.sandbox ?? 'auto', [bootstrapPath, process.execPath], [options.dir]);
    if (sandbox.kind === 'none' && options.sandbox !== 'none') {
      const who = process.getuid?.() === 0 ? 'as root' : "as the platform's user";
      options.onWarning?.(`function instances run ${who}, without the kernel's separation: ${sandbox.reason}`);
    }
    this.spares = new Spares({
      dir: options.dir,
      bootstrapPath,
      perMemorySize: options.sparesPerMemorySize,
      maxOutputBytes: options.maxOutputBytesPerInvocation ?? DEFAULT_MAX_OUTPUT_BYTES,
      sandbox,
      onOutput: (instance, stream, requestId, line) => {
        const fn = instance.functionName;
        // A probe's output is not the function's log: its module runs again at the first invocation.
        if (fn && !this.probes.has(instance)) options.onLog({ fn, requestId, time: options.clock.now(), stream, message: line });
      },
      onExit: (instance) => {
        this.probes.delete(instance);
        const pool = this.owners.get(instance);
        if (pool) {
          this.owners.delete(instance);
          pool.remove(instance);
        } else {
          this.spares.forget(instance);
        }
        void instance.dispose();
      },
    });
    this.watch = setInterval(() => this.watchInstances(), WATCH_MS);
    this.watch.unref();
    this.scheduleReap();
  }

  async deploy(specs: readonly FunctionSpec[]): Promise<void> {
    if (this.closed) throw new PlatformError('SHUTTING_DOWN', 'The platform is stopping');
    const names = new Set(specs.map((s) => s.name));
    for (const [name, pool] of this.pools) {
      if (names.has(name)) continue;
      this.pools.delete(name);
      pool.retire();
    }
    this.spares.use(specs.map((s) => s.memoryMb));
    for (const spec of specs) {
      const pool = this.pools.get(spec.name);
      if (pool) pool.update(spec);
      else this.pools.set(spec.name, this.newPool(spec));
    }
    await Promise.all([...this.pools.values()].map((p) => p.provision()));
  }

  async invoke(name: string, options: InvokeOptions): Promise<InvokeResult> {
    const pool = this.pools.get(name);
    if (!pool || this.closed) {
      if (this.closed) throw new PlatformError('SHUTTING_DOWN', 'The platform is stopping');
      throw new PlatformError('FUNCTION_NOT_FOUND', `Function not found: ${functionArn(name, this.options.identity.region, this.options.identity.accountId)}`, { name });
    }
    if (this.active >= this.options.maxConcurrency) {
      throw new PlatformError('TOO_MANY_REQUESTS', 'Rate Exceeded.', { reason: 'ConcurrentInvocationLimitExceeded' });
    }
    this.active++;
    try {
      return await pool.invoke(options);
    } finally {
      this.active--;
      this.scheduleRefill();
    }
  }

  async probe(spec: FunctionSpec): Promise<ProbeResult> {
    if (this.closed) throw new PlatformError('SHUTTING_DOWN', 'The platform is stopping');
    const instance = await this.takeSpare(spec);
    this.probes.add(instance);
    if (this.closed) {
      await instance.dispose();
      throw new PlatformError('SHUTTING_DOWN', 'The platform is stopping');
    }
    try {
      const outcome = await this.loadInto(instance, spec);
      return outcome.ok ? outcome : { ok: false, error: { type: outcome.error.errorType, message: outcome.error.errorMessage } };
    } finally {
      await instance.dispose();
      // Probes run at deploy, before any request: the spare taken can be replaced at once.
      this.spares.refill();
    }
  }

  stats(): ExecutorStats {
    const functions: Record<string, { busy: number; idle: number }> = {};
    for (const [name, pool] of this.pools) functions[name] = pool.counts();
    return { functions, spares: this.spares.count, sparesReady: this.spares.ready };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watch);
    this.cancelReap?.();
    const instances = [...this.owners.keys(), ...this.probes];
    this.owners.clear();
    const stopping = new PlatformError('SHUTTING_DOWN', 'The platform is stopping');
    for (const pool of this.pools.values()) pool.retire(stopping);
    this.pools.clear();
    await Promise.all([this.spares.close(), ...instances.map((i) => i.dispose())]);
    await rm(this.options.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  private newPool(spec: FunctionSpec): FunctionPool {
    const { clock, identity, onLog } = this.options;
    const pool: FunctionPool = new FunctionPool(spec, {
      clock,
      region: identity.region,
      accountId: identity.accountId,
      log: (requestId, message) => onLog({ fn: pool.spec.name, requestId, time: clock.now(), stream: 'runtime', message }),
      acquireInstance: async (s, stillWanted) => {
        await this.startTurn();
        try {
          if (!stillWanted() || this.closed) return undefined;
          const instance = await this.takeSpare(s);
          this.owners.set(instance, pool);
          return { instance, outcome: await this.loadInto(instance, s) };
        } finally {
          this.endTurn();
        }
      },
      saturated: () => this.cpu.saturated,
    });
    return pool;
  }

  /** Waits until fewer than `startsAtOnce` instances are starting. */
  private startTurn(): Promise<void> {
    if (this.starts < (this.options.startsAtOnce ?? STARTS_PER_CPU * os.availableParallelism())) {
      this.starts++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.startQueue.push(resolve));
  }

  /**
   * The spares are not refilled here: the instance just loaded is about to run its invocation, and
   * starting a process blocks this thread for milliseconds (measured: it delayed a cold start's answer
   * by 4–10 ms). The invocation's end refills them, once its response is out.
   */
  private endTurn(): void {
    const next = this.startQueue.shift();
    if (next) next(); // the turn passes on: `starts` stays
    else this.starts--;
  }

  /**
   * Tops the spares up once the current callbacks are done: starting a process blocks this thread for
   * milliseconds, which must not fall between an invocation's answer and its response. A few at a
   * time, coming back until the pools are full.
   */
  private scheduleRefill(delayMs = 0): void {
    if (this.refillScheduled || this.closed) return;
    this.refillScheduled = true;
    const refill = () => {
      this.refillScheduled = false;
      // Not while instances load: a booting process would slow the cold starts under way down. The
      // last of them comes back here.
      if (this.closed || this.starts > 0) return;
      if (this.spares.refill()) this.scheduleRefill(REFILL_PAUSE_MS);
    };
    if (delayMs === 0) setImmediate(refill);
    else setTimeout(refill, delayMs).unref();
  }

  private takeSpare(spec: FunctionSpec): Promise<Instance> {
    return this.spares.take(spec.memoryMb).catch((err: unknown) => {
      throw new PlatformError('INSTANCE_FAILED', `Could not start an instance of ${spec.name}: ${(err as Error).message}`, {}, { cause: err });
    });
  }

  private loadInto(instance: Instance, spec: FunctionSpec): Promise<LoadOutcome> {
    const { identity } = this.options;
    return instance.load({
      functionName: spec.name,
      codeSha256: spec.codeSha256,
      bundlePath: spec.bundlePath,
      exportName: spec.exportName,
      handler: spec.handler,
      functionArn: functionArn(spec.name, identity.region, identity.accountId),
      env: functionEnvironment(spec, identity, instance),
      maxConcurrency: spec.instanceConcurrency ?? 1,
      files: spec.files,
    });
  }

  /** Deadlines, memory, storage and the CPU load: one sweep for every instance. */
  private watchInstances(): void {
    const now = performance.now();
    if (now - this.lastStorageWatch >= STORAGE_WATCH_MS) {
      this.lastStorageWatch = now;
      void this.watchStorage(now);
    }
    if (now - this.lastCpuSample >= CPU_SAMPLE_MS) {
      this.lastCpuSample = now;
      this.cpu.sample();
      this.watchCpu(now);
    }
    for (const instance of this.owners.keys()) {
      if (!instance.busy) continue;
      instance.expire(now);
      // Short invocations are covered by the instance's own maxRSS report.
      if (instance.busyFor(now) < MEMORY_WATCH_MS) continue;
      const rss = instance.rssBytes();
      if (rss !== undefined && rss > instance.memoryMb * 1024 * 1024) {
        instance.outOfMemory = true;
        instance.kill();
      }
    }
  }

  /** Instances running several invocations at once that keep a CPU busy: their function may add one. */
  private watchCpu(now: number): void {
    for (const [instance, pool] of this.owners) {
      if (instance.capacity === 1 || !instance.busy) continue;
      const share = instance.cpuShare(now);
      if (share !== undefined && share >= INSTANCE_CPU_SATURATED) pool.cpuSaturated(instance);
    }
  }

  /** Busy instances' temporary directories, against their function's ephemeral storage. */
  private async watchStorage(now: number): Promise<void> {
    for (const [instance, pool] of this.owners) {
      if (instance.busyFor(now) < STORAGE_WATCH_MS) continue;
      if ((await instance.storageBytes()) > pool.spec.ephemeralStorageMb * 1024 * 1024) {
        instance.storageFull = true;
        instance.kill();
      }
    }
  }

  private scheduleReap(): void {
    const every = Math.max(100, Math.min(this.options.idleTimeoutMs / 2, 30_000));
    this.cancelReap = this.options.clock.setTimer(every, () => {
      const cutoff = this.options.clock.now() - this.options.idleTimeoutMs;
      for (const pool of this.pools.values()) {
        for (const instance of pool.reapIdle(cutoff)) {
          this.owners.delete(instance);
          void instance.dispose();
        }
      }
      if (!this.closed) this.scheduleReap();
    });
  }
}

const OWNER_FILE = '.owner';

/** Records which process owns `dir`: its pid names the directory, its start time tells a reused pid. */
function markOwner(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, OWNER_FILE), startTimeOf(process.pid) ?? '');
}

/** The start time of a process in clock ticks since boot (Linux); undefined where unknown. */
function startTimeOf(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/**
 * Instance directories are named by the platform process that made them; those of processes no
 * longer running (a platform killed with -9 cannot clean up) are removed, and so are those whose pid
 * now belongs to another process (its start time differs from the one recorded).
 */
function removeStaleSiblings(dir: string): void {
  const parent = path.dirname(dir);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid || (isRunning(pid) && !reused(path.join(parent, name), pid))) continue;
    rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}

function reused(dir: string, pid: number): boolean {
  let recorded: string;
  try {
    recorded = readFileSync(path.join(dir, OWNER_FILE), 'utf8');
  } catch {
    return false; // no record: trust the pid
  }
  const now = startTimeOf(pid);
  return recorded !== '' && now !== undefined && recorded !== now;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
