import type { AccessKey } from '../core/access-keys.js';
import type { NodeRuntime } from '../core/lambda.js';

/**
 * Runs function code. An executor keeps instances of each deployed function (one request at a time
 * per instance, or up to its instance concurrency), scales them out on demand up to the function's
 * reserved concurrency and its own platform-wide limit, fails an invocation at its timeout, and
 * reaps idle instances.
 */
export interface FunctionSpec {
  /** The function's name in the app manifest. */
  readonly name: string;
  /** `path/to/file.exportName`, as written in the manifest (for messages). */
  readonly handler: string;
  /** Absolute path of the bundled handler (ESM, `.mjs`), with its source map beside it (`.map`). */
  readonly bundlePath: string;
  /** The export of the bundle to call. */
  readonly exportName: string;
  /**
   * Identifies the code, its included files with it: instances of an older version finish their
   * request and retire.
   */
  readonly codeSha256: string;
  /**
   * Files that go beside the code (the manifest's `package.include`): each of `paths` (relative,
   * `/`-separated) is under `root`, and an instance finds it at the same path in its task root
   * (`LAMBDA_TASK_ROOT`, the handler's working directory). Read-only: they are shared by every
   * instance of the code. Absent when the function includes none.
   */
  readonly files?: { readonly root: string; readonly paths: readonly string[] } | undefined;
  readonly runtime: NodeRuntime;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Size of the function's temporary directory, MB; past it the invocation fails with ENOSPC. */
  readonly ephemeralStorageMb: number;
  readonly environment: Readonly<Record<string, string>>;
  /** The function's own key pair (its execution role), handed to it as `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`. */
  readonly credentials: AccessKey;
  readonly reservedConcurrency?: number | undefined;
  readonly provisionedConcurrency?: number | undefined;
  /**
   * Invocations one instance runs at once (1–1600; default 1, Lambda's classic model). Above 1, as
   * Lambda Managed Instances do: they interleave in one process, which is never frozen, and each
   * keeps its own context, log lines and timeout. `AWS_LAMBDA_MAX_CONCURRENCY` tells the function.
   */
  readonly instanceConcurrency?: number | undefined;
}

export interface InvokeOptions {
  readonly requestId: string;
  /** The event as JSON text (Lambda's payload bytes: passed through unparsed where possible). */
  readonly payload: string;
  /** Lambda's client context (mobile SDKs), if the caller gave one. */
  readonly clientContext?: unknown;
}

/** What a function did. A function error is a result, not a thrown error. */
export interface InvokeResult {
  readonly requestId: string;
  /**
   * JSON text of the handler's return value (`null` when it returned nothing), or of Lambda's
   * `{errorType, errorMessage, trace}` when `error` is set.
   */
  readonly payload: string;
  /** Set when the function failed: `Unhandled` as Lambda's `X-Amz-Function-Error`. */
  readonly error?: { readonly type: string; readonly message: string } | undefined;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  readonly maxMemoryUsedMb: number;
  /** Set on the first invocation of an instance. */
  readonly initDurationMs?: number | undefined;
  readonly timedOut?: boolean | undefined;
}

/** One line of a function's log: runtime lines (START/END/REPORT) and the function's own output. */
export interface LogRecord {
  readonly fn: string;
  readonly requestId: string | null;
  readonly time: number;
  readonly stream: 'runtime' | 'stdout' | 'stderr';
  readonly message: string;
}

export interface ExecutorStats {
  readonly functions: Readonly<Record<string, { readonly busy: number; readonly idle: number }>>;
  /** Pre-started empty instances, and how many of them have finished booting. */
  readonly spares: number;
  readonly sparesReady: number;
}

/** How loading a function's code went: what the init phase of its first instance would report. */
export type ProbeResult =
  | { readonly ok: true; readonly initDurationMs: number }
  /** Lambda's error type and message, e.g. `Runtime.HandlerNotFound`, or the error the module threw. */
  | { readonly ok: false; readonly error: { readonly type: string; readonly message: string } };

export interface Executor {
  /** Makes `specs` the deployed set: new code is swapped in; removed functions drain and stop. */
  deploy(specs: readonly FunctionSpec[]): Promise<void>;
  /**
   * Loads `spec`'s code in a throwaway instance, under the same sandbox and environment as a cold
   * start, and reports how its init went; the instance is stopped after and nothing is deployed.
   * The module's top-level code runs, but its output is not logged. Rejects only for platform
   * faults (`INSTANCE_FAILED`, `SHUTTING_DOWN`).
   */
  probe(spec: FunctionSpec): Promise<ProbeResult>;
  /**
   * Runs one invocation. Rejects with `PlatformError` `FUNCTION_NOT_FOUND`, `TOO_MANY_REQUESTS`
   * (throttled) or `INSTANCE_FAILED`; everything the function itself does is in the result.
   */
  invoke(name: string, options: InvokeOptions): Promise<InvokeResult>;
  stats(): ExecutorStats;
  /** Stops every instance; invocations in flight are failed. */
  close(): Promise<void>;
}
