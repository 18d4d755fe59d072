/**
 * Messages between the platform and a function instance, over the instance's IPC channel. Tagged
 * unions: every message has a `type`. Errors cross the boundary as Lambda's error object.
 */

/** Lambda's error shape, as returned by Invoke and written to logs. */
export interface LambdaErrorObject {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface LoadFunction {
  readonly type: 'load';
  readonly functionName: string;
  /** Absolute path of the bundle inside the instance's code directory. */
  readonly bundlePath: string;
  readonly exportName: string;
  readonly handler: string;
  readonly functionArn: string;
  readonly memoryMb: number;
  readonly env: Readonly<Record<string, string>>;
}

export interface Invoke {
  readonly type: 'invoke';
  readonly requestId: string;
  /** The event as JSON text. */
  readonly payload: string;
  /** Epoch ms after which the platform kills the instance. */
  readonly deadline: number;
  readonly clientContext?: unknown;
}

export type ToInstance = LoadFunction | Invoke;

/** The process booted and waits for a function. */
export interface Ready { readonly type: 'ready' }
/** The handler module was imported. */
export interface Loaded { readonly type: 'loaded'; readonly initDurationMs: number }
/** Importing the handler module failed, or the export is not a function. */
export interface InitFailed { readonly type: 'init-failed'; readonly error: LambdaErrorObject }
export interface Log { readonly type: 'log'; readonly requestId: string | null; readonly line: string }
export interface Result {
  readonly type: 'result';
  readonly requestId: string;
  /** JSON text of the handler's return value. */
  readonly payload: string;
  readonly durationMs: number;
  readonly maxRssKb: number;
}
export interface Failure {
  readonly type: 'failure';
  readonly requestId: string;
  readonly error: LambdaErrorObject;
  readonly durationMs: number;
  readonly maxRssKb: number;
  /** The instance is about to exit (uncaught exception, unhandled rejection) and must be replaced. */
  readonly fatal: boolean;
}

export type FromInstance = Ready | Loaded | InitFailed | Log | Result | Failure;
