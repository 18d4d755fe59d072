/**
 * The instances of one function: idle ones are reused (most recently used first, its caches are
 * warm), new ones are started while below the function's reserved concurrency, instances of old
 * code finish their request and retire. Writes Lambda's START/END/REPORT lines.
 */
import { PlatformError } from '../core/errors.js';
import { billedDuration, endLine, exitError, reportLine, startLine, timeoutError } from '../core/lambda.js';
import type { Clock } from '../ports/clock.js';
import type { FunctionSpec, InvokeOptions, InvokeResult } from '../ports/executor.js';
import type { Instance, LoadOutcome, Outcome } from './instance.js';
import type { LambdaErrorObject } from './protocol.js';

export interface FunctionPoolDeps {
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
  readonly log: (requestId: string | null, message: string) => void;
  /** A new instance loaded with `spec`'s code. */
  readonly acquireInstance: (spec: FunctionSpec) => Promise<{ instance: Instance; outcome: LoadOutcome }>;
}

export class FunctionPool {
  spec: FunctionSpec;
  private readonly deps: FunctionPoolDeps;
  private readonly idle: Instance[] = [];
  private readonly all = new Set<Instance>();
  /** Requests being served, including those waiting for a new instance. */
  private inFlight = 0;
  private retired = false;

  constructor(spec: FunctionSpec, deps: FunctionPoolDeps) {
    this.spec = spec;
    this.deps = deps;
  }

  counts(): { busy: number; idle: number } {
    return { busy: this.inFlight, idle: this.idle.length };
  }

  /** New code or configuration: idle instances of the old version stop now, busy ones after their request. */
  update(spec: FunctionSpec): void {
    const changed = spec.codeSha256 !== this.spec.codeSha256 || spec.memoryMb !== this.spec.memoryMb || !sameEnv(spec, this.spec);
    this.spec = spec;
    if (!changed) return;
    for (const instance of this.idle.splice(0)) this.stop(instance);
  }

  /** Starts instances up to the provisioned concurrency. */
  async provision(): Promise<void> {
    const want = this.spec.provisionedConcurrency ?? 0;
    const starts: Promise<void>[] = [];
    for (let n = this.all.size; n < want; n++) {
      starts.push(
        this.deps.acquireInstance(this.spec).then(({ instance, outcome }) => {
          this.all.add(instance);
          if (outcome.ok) this.release(instance);
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
      let instance = this.idle.pop();
      let initDurationMs: number | undefined;
      if (!instance) {
        const acquired = await this.deps.acquireInstance(spec);
        instance = acquired.instance;
        this.all.add(instance);
        if (!acquired.outcome.ok) {
          this.stop(instance);
          return this.initFailure(options.requestId, acquired.outcome.error);
        }
        initDurationMs = acquired.outcome.initDurationMs;
      }
      return await this.run(instance, spec, options, initDurationMs);
    } finally {
      this.inFlight--;
    }
  }

  /** The instance's process ended (crash, kill): forget it. */
  remove(instance: Instance): void {
    this.all.delete(instance);
    const i = this.idle.indexOf(instance);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Idle instances last used before `cutoff`, beyond the provisioned ones; they are removed from the pool. */
  reapIdle(cutoff: number): Instance[] {
    const keep = this.spec.provisionedConcurrency ?? 0;
    const reaped: Instance[] = [];
    // idle[0] is the least recently used.
    while (this.idle.length > 0 && this.all.size > keep && this.idle[0]!.lastUsed < cutoff) {
      const instance = this.idle.shift()!;
      this.all.delete(instance);
      reaped.push(instance);
    }
    return reaped;
  }

  /** The function was removed: everything stops once idle. */
  retire(): void {
    this.retired = true;
    for (const instance of this.idle.splice(0)) this.stop(instance);
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
    const dropped = instance.takeDropped();
    if (dropped.lines > 0) {
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
    if (outcome.kind === 'result' || (outcome.kind === 'failure' && !outcome.fatal)) this.release(instance);
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

  private release(instance: Instance): void {
    if (instance.dead) return this.remove(instance);
    if (this.retired || instance.codeSha256 !== this.spec.codeSha256 || instance.memoryMb !== this.spec.memoryMb) return this.stop(instance);
    instance.lastUsed = this.deps.clock.now();
    this.idle.push(instance);
  }

  private stop(instance: Instance): void {
    this.remove(instance);
    void instance.dispose();
  }
}

const mb = (kb: number): number => Math.ceil(kb / 1024);

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
