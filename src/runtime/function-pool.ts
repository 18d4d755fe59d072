/**
 * The instances of one function. An invocation goes to an instance with a free slot: in the classic
 * model (one invocation per instance) the most recently used idle one, whose caches are warm; with
 * instance concurrency the least loaded. When none is free it waits for the first slot to free or a
 * new instance, whichever comes first. A function grows freely to a few instances per CPU
 * (`INSTANCES_PER_CPU`); past that a process more only shares the same cores and each request then
 * wakes a different one, so it grows only while invocations wait long (`SLOW_WAIT_MS`: their
 * instances are held by slow work, not by the CPU) and the machine's CPU has room, or when no
 * instance freed a slot for `MAX_WAIT_MS` (all are held by invocations waiting on this very
 * function: it cannot wait on itself).
 * Instances of old code finish what they run and retire. Writes Lambda's START/END/REPORT lines.
 */
import os from 'node:os';
import { PlatformError } from '../core/errors.js';
import { billedDuration, endLine, exitError, reportLine, startLine, timeoutError } from '../core/lambda.js';
import type { Clock } from '../ports/clock.js';
import type { FunctionSpec, InvokeOptions, InvokeResult } from '../ports/executor.js';
import type { Instance, LoadOutcome, Outcome } from './instance.js';
import type { LambdaErrorObject } from './protocol.js';

/** How long no instance may free before waiting invocations get a new instance anyway. */
export const MAX_WAIT_MS = 100;
/**
 * Past `INSTANCES_PER_CPU`, an invocation waiting this long gets a new instance if the CPU has room:
 * its function's instances are waiting on I/O, not on the CPU. A wait for a busy CPU is shorter (a
 * few ms for a quick handler with dozens of requests queued), and the CPU meter, a moving average,
 * is too slow to stop a burst's first 100 ms from starting a process per request.
 */
export const SLOW_WAIT_MS = 20;
/**
 * Instances per CPU a function grows to freely: in the classic model an instance spends most of a
 * request waiting on the platform, so a few per CPU keep the CPUs busy; an instance running many
 * invocations at once can keep one CPU busy by itself.
 */
/** Read once: each call of os.availableParallelism() is a system call. */
const CPUS = os.availableParallelism();
const INSTANCES_PER_CPU = { classic: 4, concurrent: 1 };

export interface FunctionPoolDeps {
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
  readonly log: (requestId: string | null, message: string) => void;
  /**
   * A new instance loaded with `spec`'s code, once the executor lets one more start; `undefined`
   * when `stillWanted` says, at that moment, that it is no longer needed.
   */
  readonly acquireInstance: (spec: FunctionSpec, stillWanted: () => boolean) => Promise<{ instance: Instance; outcome: LoadOutcome } | undefined>;
  /** The machine's CPU is busy: one more process would only share it. */
  readonly saturated: () => boolean;
}

/** What a waiting invocation is given: an instance (new, with its init duration, or freed), or the error of the start made for it. */
type Grant = { instance: Instance; initDurationMs?: number } | { initError: LambdaErrorObject } | { gone: PlatformError };

interface Waiter {
  readonly since: number;
  readonly grant: (g: Grant) => void;
}

export class FunctionPool {
  spec: FunctionSpec;
  private readonly deps: FunctionPoolDeps;
  /** Loaded instances, each with the invocations the pool has given it. */
  private readonly slots = new Map<Instance, number>();
  /** Instances with nothing to run, least recently used first. */
  private readonly idle: Instance[] = [];
  private readonly waiters: Waiter[] = [];
  /** Instances being started for waiting invocations. */
  private starting = 0;
  private waitTimer: NodeJS.Timeout | undefined;
  /** When an instance last freed a slot (`performance.now()`). */
  private lastRelease = 0;
  /** Requests being served, including those waiting for an instance. */
  private inFlight = 0;
  private retired = false;

  constructor(spec: FunctionSpec, deps: FunctionPoolDeps) {
    this.spec = spec;
    this.deps = deps;
  }

  counts(): { busy: number; idle: number } {
    return { busy: this.inFlight, idle: this.idle.length };
  }

  /** New code or configuration: idle instances of the old version stop now, busy ones once done. */
  update(spec: FunctionSpec): void {
    const changed =
      spec.codeSha256 !== this.spec.codeSha256 ||
      spec.memoryMb !== this.spec.memoryMb ||
      capacityOf(spec) !== capacityOf(this.spec) ||
      !sameEnv(spec, this.spec);
    this.spec = spec;
    if (!changed) return;
    for (const instance of this.idle.splice(0)) this.stop(instance);
    this.scale();
  }

  /** Starts instances up to the provisioned concurrency. */
  async provision(): Promise<void> {
    const want = this.spec.provisionedConcurrency ?? 0;
    const starts: Promise<void>[] = [];
    for (let n = this.slots.size; n < want; n++) {
      starts.push(
        this.deps.acquireInstance(this.spec, () => !this.retired).then((acquired) => {
          if (!acquired) return;
          const { instance, outcome } = acquired;
          this.slots.set(instance, 0);
          if (outcome.ok) this.release(instance, false);
          else this.stop(instance);
        }),
      );
    }
    await Promise.all(starts);
  }

  async invoke(options: InvokeOptions): Promise<InvokeResult> {
    const spec = this.spec;
    const limit = spec.reservedConcurrency ?? Infinity;
    if (this.inFlight >= limit) {
      throw new PlatformError('TOO_MANY_REQUESTS', 'Rate Exceeded.', { reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    }
    this.inFlight++;
    try {
      const free = this.take();
      const grant: Grant = free ? { instance: free } : await this.wait();
      if ('gone' in grant) throw grant.gone;
      if ('initError' in grant) return this.initFailure(options.requestId, grant.initError);
      return await this.run(grant.instance, this.spec, options, grant.initDurationMs);
    } finally {
      this.inFlight--;
    }
  }

  /** The instance's process ended (crash, kill): forget it. */
  remove(instance: Instance): void {
    this.slots.delete(instance);
    const i = this.idle.indexOf(instance);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Idle instances last used before `cutoff`, beyond the provisioned ones; they are removed from the pool. */
  reapIdle(cutoff: number): Instance[] {
    const keep = this.spec.provisionedConcurrency ?? 0;
    const reaped: Instance[] = [];
    // idle[0] is the least recently used.
    while (this.idle.length > 0 && this.slots.size > keep && this.idle[0]!.lastUsed < cutoff) {
      const instance = this.idle.shift()!;
      this.slots.delete(instance);
      reaped.push(instance);
    }
    return reaped;
  }

  /**
   * The function was removed, or the platform stops: everything stops once idle, and what waits for
   * an instance fails with `why` (by default, that the function is gone).
   */
  retire(why?: PlatformError): void {
    this.retired = true;
    for (const instance of this.idle.splice(0)) this.stop(instance);
    clearTimeout(this.waitTimer);
    const gone = why ?? new PlatformError('FUNCTION_NOT_FOUND', `Function not found: ${this.spec.name} was removed`, { name: this.spec.name });
    for (const waiter of this.waiters.splice(0)) waiter.grant({ gone });
  }

  /** An instance with a free slot, which is taken; undefined when every one is full. */
  private take(): Instance | undefined {
    if (capacityOf(this.spec) === 1) {
      const instance = this.idle.pop();
      if (instance) this.slots.set(instance, 1);
      return instance;
    }
    let best: Instance | undefined;
    let bestLoad = Infinity;
    for (const [instance, load] of this.slots) {
      if (load < bestLoad && load < instance.capacity && this.current(instance)) {
        best = instance;
        bestLoad = load;
      }
    }
    if (!best) return undefined;
    if (bestLoad === 0) this.idle.splice(this.idle.indexOf(best), 1);
    this.slots.set(best, bestLoad + 1);
    return best;
  }

  private wait(): Promise<Grant> {
    return new Promise<Grant>((grant) => {
      this.waiters.push({ since: performance.now(), grant });
      this.scale();
    });
  }

  /**
   * Starts instances for the invocations waiting beyond what the instances on their way will take,
   * as the class comment says; when it may not yet, a timer comes back at the end of the wait.
   */
  private scale(): void {
    if (this.retired) return;
    const capacity = capacityOf(this.spec);
    // A few starts at a time, each end of one coming back here: the CPU load is measured between them.
    while (this.waiters.length > this.starting * capacity && this.starting < CPUS) {
      const wait = this.mayGrowIn();
      if (wait > 0) {
        this.waitTimer ??= setTimeout(() => {
          this.waitTimer = undefined;
          this.scale();
        }, wait + 1);
        return;
      }
      this.startOne();
    }
  }

  /** 0 when one more instance may start for the waiting invocations, else how many ms until it may. */
  private mayGrowIn(): number {
    const instances = this.slots.size + this.starting;
    const perCpu = capacityOf(this.spec) === 1 ? INSTANCES_PER_CPU.classic : INSTANCES_PER_CPU.concurrent;
    if (instances < perCpu * CPUS) return 0;
    const now = performance.now();
    const waited = now - this.waiters[0]!.since;
    const stalledFor = now - Math.max(this.lastRelease, this.waiters[0]!.since);
    if (stalledFor >= MAX_WAIT_MS) return 0;
    if (waited < SLOW_WAIT_MS) return SLOW_WAIT_MS - waited;
    if (!this.deps.saturated()) return 0;
    return MAX_WAIT_MS - stalledFor;
  }

  /**
   * `instance` keeps a CPU busy with the invocations it runs at once: one more instance takes a share
   * of the next ones (they go to the least loaded), while the function has fewer instances than CPUs.
   */
  cpuSaturated(instance: Instance): void {
    if (capacityOf(this.spec) === 1 || !this.current(instance) || (this.slots.get(instance) ?? 0) < 2) return;
    if (this.slots.size + this.starting >= CPUS) return;
    this.startOne(() => !this.retired);
  }

  /** Starts an instance; `wanted`, asked when its turn to start comes, may call it off. */
  private startOne(wanted?: () => boolean): void {
    this.starting++;
    const spec = this.spec;
    // By the time the executor lets it start, freed instances may have served everyone waiting.
    const stillWanted = wanted ?? (() => !this.retired && this.waiters.length > (this.starting - 1) * capacityOf(this.spec));
    this.deps.acquireInstance(spec, stillWanted).then(
      (acquired) => {
        this.starting--;
        if (!acquired) return;
        const { instance, outcome } = acquired;
        if (!outcome.ok) {
          this.stop(instance);
          this.waiters.shift()?.grant({ initError: outcome.error });
          this.scale();
          return;
        }
        this.slots.set(instance, 0);
        let initDurationMs: number | undefined = outcome.initDurationMs;
        // The one whose wait started it reports the init; the others it takes are warm starts.
        while (this.waiters.length > 0 && (this.slots.get(instance) ?? 0) < instance.capacity && this.current(instance)) {
          this.slots.set(instance, (this.slots.get(instance) ?? 0) + 1);
          this.waiters.shift()!.grant({ instance, initDurationMs });
          initDurationMs = undefined;
        }
        if (this.slots.get(instance) === 0) this.release(instance, false);
        this.scale();
      },
      (err: unknown) => {
        this.starting--;
        const gone = err instanceof PlatformError ? err : new PlatformError('INSTANCE_FAILED', String(err));
        this.waiters.shift()?.grant({ gone });
        this.scale();
      },
    );
  }

  /** An instance that may take invocations: alive, of the current code and configuration. */
  private current(instance: Instance): boolean {
    return (
      !instance.dead &&
      !instance.draining &&
      !this.retired &&
      instance.codeSha256 === this.spec.codeSha256 &&
      instance.memoryMb === this.spec.memoryMb &&
      instance.capacity === capacityOf(this.spec)
    );
  }

  private async run(instance: Instance, spec: FunctionSpec, options: InvokeOptions, initDurationMs: number | undefined): Promise<InvokeResult> {
    const { requestId } = options;
    this.deps.log(requestId, startLine(requestId));
    let outcome = await instance.invoke(requestId, options.payload, spec.timeoutSeconds * 1000, options.clientContext);
    // A peak between two reads of the memory watch still broke the limit: fail as the watch would have.
    if ((outcome.kind === 'result' || outcome.kind === 'failure') && outcome.maxRssKb > spec.memoryMb * 1024) {
      instance.kill();
      outcome = { kind: 'exit', how: 'signal: killed', outOfMemory: true, durationMs: outcome.durationMs };
    }
    // An invocation long enough to have filled its temporary directory is measured once it ends (the
    // executor's watch measures the busy ones): writing hundreds of MB takes longer than this.
    if ((outcome.kind === 'result' || outcome.kind === 'failure') && outcome.durationMs >= STORAGE_CHECK_AFTER_MS) {
      if ((await instance.storageBytes()) > spec.ephemeralStorageMb * 1024 * 1024) {
        instance.storageFull = true;
        instance.kill();
        outcome = { kind: 'exit', how: 'signal: killed', outOfMemory: false, storageFull: true, durationMs: outcome.durationMs };
      }
    }
    const result = this.toResult(requestId, spec, outcome, initDurationMs);
    const dropped = outcome.dropped;
    if (dropped) {
      this.deps.log(requestId, `${dropped.lines} lines (${dropped.bytes} characters) of output were dropped: over this invocation's log limit`);
    }
    this.deps.log(requestId, endLine(requestId));
    this.deps.log(
      requestId,
      reportLine(requestId, {
        durationMs: result.durationMs,
        memoryMb: spec.memoryMb,
        maxMemoryUsedMb: result.maxMemoryUsedMb,
        initDurationMs,
        status: outcome.kind === 'timeout' ? 'timeout' : undefined,
      }),
    );
    if (outcome.kind === 'result' || (outcome.kind === 'failure' && !outcome.fatal) || (outcome.kind === 'timeout' && instance.capacity > 1)) this.release(instance);
    else this.stop(instance);
    return result;
  }

  private toResult(requestId: string, spec: FunctionSpec, outcome: Outcome, initDurationMs: number | undefined): InvokeResult {
    const base = { requestId, initDurationMs, durationMs: outcome.durationMs };
    switch (outcome.kind) {
      case 'result':
        return { ...base, payload: outcome.payload, billedDurationMs: billedDuration(outcome.durationMs), maxMemoryUsedMb: mb(outcome.maxRssKb) };
      case 'failure':
        this.logError(requestId, outcome.error);
        return this.failed(base, outcome.error, mb(outcome.maxRssKb));
      case 'timeout': {
        const error = timeoutError(requestId, spec.timeoutSeconds);
        this.deps.log(requestId, `${new Date(this.deps.clock.now()).toISOString()} ${requestId} Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`);
        return { ...this.failed(base, error, mb((outcome.rssBytes ?? 0) / 1024)), timedOut: true };
      }
      case 'exit': {
        const error = outcome.storageFull ? storageFullError(spec.ephemeralStorageMb) : exitError(requestId, outcome.how, outcome.outOfMemory);
        this.logError(requestId, error);
        return this.failed(base, error, outcome.outOfMemory ? spec.memoryMb : 0);
      }
    }
  }

  private failed(base: { requestId: string; durationMs: number; initDurationMs: number | undefined }, error: LambdaErrorObject, maxMemoryUsedMb: number): InvokeResult {
    return {
      ...base,
      payload: JSON.stringify(error),
      error: { type: error.errorType, message: error.errorMessage },
      billedDurationMs: billedDuration(base.durationMs),
      maxMemoryUsedMb,
    };
  }

  private initFailure(requestId: string, error: LambdaErrorObject): InvokeResult {
    this.deps.log(requestId, `INIT_REPORT Phase: init Status: error Error Type: ${error.errorType}`);
    this.logError(requestId, error);
    return this.failed({ requestId, durationMs: 0, initDurationMs: undefined }, error, 0);
  }

  private logError(requestId: string, error: LambdaErrorObject): void {
    // Lambda's runtime logs a failed invocation as one ERROR line with the error object.
    this.deps.log(requestId, `${new Date(this.deps.clock.now()).toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(error)}`);
  }

  /**
   * An invocation on `instance` is done (or, `finished` false, a new instance has nothing to run):
   * its slot goes to the first waiting invocation, or the instance becomes idle. An instance no longer
   * current stops once it has nothing in flight.
   */
  private release(instance: Instance, finished = true): void {
    if (instance.dead) return this.remove(instance);
    if (finished) this.lastRelease = performance.now();
    const load = (this.slots.get(instance) ?? 1) - (finished ? 1 : 0);
    if (!this.current(instance)) {
      if (load <= 0) this.stop(instance);
      else this.slots.set(instance, load);
      this.scale();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      this.slots.set(instance, load + 1);
      waiter.grant({ instance });
      return;
    }
    this.slots.set(instance, load);
    if (load > 0) return;
    instance.lastUsed = this.deps.clock.now();
    this.idle.push(instance);
  }

  private stop(instance: Instance): void {
    this.remove(instance);
    void instance.dispose();
  }
}

const mb = (kb: number): number => Math.ceil(kb / 1024);

const capacityOf = (spec: FunctionSpec): number => spec.instanceConcurrency ?? 1;

/** Invocations shorter than this are not measured at their end: they cannot write that much. */
const STORAGE_CHECK_AFTER_MS = 100;

/**
 * On Lambda a write past `EphemeralStorage.Size` fails with ENOSPC, which the function sees and
 * (unless it catches it) reports as its error. Here the directory is measured from outside, so the
 * invocation fails as that unhandled error would, and the instance, its /tmp full, is replaced.
 */
function storageFullError(sizeMb: number): LambdaErrorObject {
  return { errorType: 'Error', errorMessage: `ENOSPC: no space left on device (the function's ${sizeMb} MB of ephemeral storage are used up)`, trace: [] };
}

function sameEnv(a: FunctionSpec, b: FunctionSpec): boolean {
  const ka = Object.keys(a.environment);
  return ka.length === Object.keys(b.environment).length && ka.every((k) => a.environment[k] === b.environment[k]);
}
