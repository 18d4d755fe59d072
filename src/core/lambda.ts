/**
 * Lambda's limits and the texts of its runtime log and error lines, copied from the reference
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 */
export const LAMBDA_LIMITS = {
  /** Synchronous invocation request and response payloads: 6 MB each. */
  MAX_SYNC_REQUEST_BYTES: 6 * 1024 * 1024,
  MAX_SYNC_RESPONSE_BYTES: 6 * 1024 * 1024,
  /** Asynchronous (`Event`) invocation payload: 1 MB (raised from 256 KB in 2025). */
  MAX_ASYNC_REQUEST_BYTES: 1024 * 1024,
  MIN_MEMORY_MB: 128,
  MAX_MEMORY_MB: 10_240,
  MAX_TIMEOUT_SECONDS: 900,
  /** `X-Amz-Log-Result` carries the last 4 KB of the invocation's log. */
  LOG_TAIL_BYTES: 4096,
  /** A function's code unzipped, its files included: 250 MB, Lambda's "Unzipped size must be smaller than 262144000 bytes". */
  MAX_UNZIPPED_CODE_BYTES: 262_144_000,
} as const;

/** The Lambda Node.js runtimes Nuvola accepts; instances run on the Node that runs Nuvola. */
export const NODE_RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'] as const;
export type NodeRuntime = (typeof NODE_RUNTIMES)[number];

/** The Node.js major version a runtime names: `nodejs22.x` → 22. */
export function runtimeMajor(runtime: NodeRuntime): number {
  return Number(runtime.slice(6, -2));
}

/**
 * The runtime matching a Node.js version (`24.1.0` → `nodejs24.x`); a version between or beyond the
 * listed ones maps to the newest runtime not above it (an odd release runs what its LTS runs).
 */
export function runtimeForNode(version: string): NodeRuntime {
  const major = Number(version.replace(/^v/, '').split('.')[0]);
  const fitting = NODE_RUNTIMES.filter((r) => runtimeMajor(r) <= major);
  return fitting.at(-1) ?? NODE_RUNTIMES[0];
}

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_ACCOUNT_ID = '000000000000';

export function functionArn(name: string, region = DEFAULT_REGION, accountId = DEFAULT_ACCOUNT_ID): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
}

const ms = (n: number): string => n.toFixed(2);

export function startLine(requestId: string, version = '$LATEST'): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export interface ReportFigures {
  durationMs: number;
  memoryMb: number;
  maxMemoryUsedMb: number;
  initDurationMs?: number | undefined;
  status?: 'timeout' | 'error' | undefined;
}

/** Lambda bills by the millisecond, rounded up. */
export function billedDuration(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

export function reportLine(requestId: string, f: ReportFigures): string {
  let line =
    `REPORT RequestId: ${requestId}\tDuration: ${ms(f.durationMs)} ms\tBilled Duration: ${billedDuration(f.durationMs)} ms` +
    `\tMemory Size: ${f.memoryMb} MB\tMax Memory Used: ${f.maxMemoryUsedMb} MB`;
  if (f.initDurationMs !== undefined) line += `\tInit Duration: ${ms(f.initDurationMs)} ms`;
  if (f.status === 'timeout') line += '\tStatus: timeout';
  return line;
}

/** Lambda's `Task timed out after 3.00 seconds`. */
export function timeoutError(requestId: string, timeoutSeconds: number): { errorType: string; errorMessage: string } {
  return { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds` };
}

export function exitError(requestId: string, how: string, outOfMemory: boolean): { errorType: string; errorMessage: string } {
  return {
    errorType: outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError',
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${how}`,
  };
}
