/**
 * The code that runs inside a function instance: a Node process started empty (before any function
 * is known, so that a cold start costs only the handler's import), then handed one function by a
 * `load` message and sent `invoke` messages, one at a time. It follows the Lambda Node.js runtime:
 * `async (event, context)` or callback handlers, console output tagged with the request id, and
 * Lambda's error objects. The platform enforces timeouts and memory from outside.
 */
import fs, { readSync, type PathLike } from 'node:fs';
import path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import os, { constants as osConstants } from 'node:os';
import { format, types } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { FromInstance, Invoke, LambdaErrorObject, LoadFunction, ToInstance } from './protocol.js';
import { LAMBDA_LIMITS } from '../core/lambda.js';

const SELF = import.meta.url;

/**
 * Function code may signal only its own process, as in Lambda's sandbox where no other is visible:
 * without this it could kill the platform (`process.kill(process.ppid)`) or any process of the same
 * user. `process.kill` calls `process._kill`, which is replaced for good (not writable, not
 * configurable) before any function code loads; the permission model denies `process.binding`, the
 * other way to the raw call. `os.setPriority` is held to this process likewise.
 */
function confineToSelf(): void {
  const self = process.pid;
  const EPERM = -osConstants.errno.EPERM;
  const raw = (process as unknown as { _kill: (pid: number, signal: number) => number })._kill.bind(process);
  Object.defineProperty(process, '_kill', {
    value: (pid: number, signal: number) => (pid === self ? raw(pid, signal) : EPERM),
    writable: false,
    configurable: false,
    enumerable: false,
  });
  const setPriority = os.setPriority.bind(os);
  Object.defineProperty(os, 'setPriority', {
    value: (pidOrPriority: number, priority?: number) => {
      if (priority !== undefined && pidOrPriority !== 0 && pidOrPriority !== self) {
        throw Object.assign(new Error('EPERM: operation not permitted, setPriority'), { code: 'EPERM', errno: -osConstants.errno.EPERM, syscall: 'setPriority' });
      }
      return priority === undefined ? setPriority(pidOrPriority) : setPriority(pidOrPriority, priority);
    },
    writable: false,
    configurable: false,
  });
  confineRealpath();
  // `import { setPriority } from 'node:os'` reads the ESM facade, which keeps its own copy until synced.
  syncBuiltinESMExports();
}

/**
 * `fs.realpathSync` is written in JavaScript over calls the permission model does not check, so it
 * tells whether any path exists and where its links lead. It is held to the paths the instance may
 * read, as the other file system calls are.
 */
function confineRealpath(): void {
  const realpathSync = fs.realpathSync;
  const guarded = ((p: PathLike, options?: unknown) => {
    const target = path.resolve(p instanceof URL ? fileURLToPath(p) : String(p));
    if (!process.permission?.has('fs.read', target)) {
      throw Object.assign(new Error('Access to this API has been restricted'), { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemRead', resource: target });
    }
    return (realpathSync as (p: PathLike, o?: unknown) => string)(p, options);
  }) as typeof fs.realpathSync;
  guarded.native = realpathSync.native;
  Object.defineProperty(fs, 'realpathSync', { value: guarded, writable: false, configurable: false });
}
confineToSelf();

const send = (msg: FromInstance): void => {
  process.send?.(msg);
};

/** The platform writes a byte here before each invocation; end of file means it is gone. */
const THAW_FD = 4;

/**
 * Lambda freezes an execution environment between invocations: code the function left scheduled
 * (timers, pending I/O) does not run until the next one. Here the whole thread blocks reading the
 * thaw pipe once the message is out, so nothing runs, nothing allocates; the platform's byte
 * resumes it (overdue timers then fire, as they do on a thawed Lambda), and the platform's death
 * closes the pipe, which ends the process.
 */
function sendAndFreeze(msg: FromInstance): void {
  if (!process.send) return;
  process.send(msg, () => {
    const byte = Buffer.alloc(1);
    let n: number;
    try {
      n = readSync(THAW_FD, byte);
    } catch {
      return; // no thaw pipe (started by hand): run unfrozen
    }
    if (n === 0) process.exit(0);
  });
}

type Handler = (event: unknown, context: object, callback?: (err?: unknown, result?: unknown) => void) => unknown;

let fn: LoadFunction | undefined;
let handler: Handler | undefined;
let loading: Promise<void> = Promise.resolve();
let current: Invoke | undefined;
let invocationFailed: ((err: unknown, kind: 'uncaught' | 'rejection') => void) | undefined;

/**
 * Lambda's error record for what a handler threw or rejected with, as its Node runtime makes it
 * (aws-lambda-nodejs-runtime-interface-client, `Errors.toRapidResponse`): an error (or anything with
 * string `name`, `message` and `stack`) by its name and message; anything else by its type and
 * `toString()`; and a fixed record when even that fails.
 */
function toErrorObject(err: unknown): LambdaErrorObject {
  try {
    if (types.isNativeError(err) || isErrorLike(err)) {
      const e = err as Error;
      // Frames of this bootstrap say nothing about the user's code and name the platform's files.
      const trace = String(e.stack).split('\n').filter((line) => !line.includes(SELF));
      return { errorType: e.name, errorMessage: e.message, trace };
    }
    return { errorType: typeof err, errorMessage: String((err as { toString(): unknown }).toString()), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function isErrorLike(v: unknown): boolean {
  const e = v as { name?: unknown; message?: unknown; stack?: unknown } | null;
  return !!e && typeof e.name === 'string' && !!e.name && typeof e.message === 'string' && !!e.message && typeof e.stack === 'string' && !!e.stack;
}

/** What Lambda's runtime reports when the event loop empties before an async handler settled. */
const NODE_JS_EXIT = {
  errorType: 'Runtime.NodeJsExit',
  errorMessage:
    'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
  trace: [] as string[],
};

const isAsyncFunction = (f: unknown): boolean => (f as { constructor?: { name?: string } })?.constructor?.name === 'AsyncFunction';

const LEVELS = [
  ['log', 'INFO'],
  ['info', 'INFO'],
  ['warn', 'WARN'],
  ['error', 'ERROR'],
  ['debug', 'DEBUG'],
  ['trace', 'TRACE'],
] as const;

// Lambda's Node runtime prefixes every console line with time, request id and level. Lines go over
// the IPC channel rather than stdout so that they stay ordered with the invocation's result.
for (const [method, level] of LEVELS) {
  console[method] = (...args: unknown[]) => {
    const requestId = current?.requestId ?? null;
    send({ type: 'log', requestId, line: `${new Date().toISOString()}\t${requestId ?? 'undefined'}\t${level}\t${format(...args)}` });
  };
}

// Node's process warnings (deprecations, MaxListenersExceeded, …) are log lines of the invocation that
// caused them, tagged like console.warn, instead of untagged `(node:1) Warning:` text on stderr.
process.removeAllListeners('warning');
process.on('warning', (warning) => console.warn(`(node) ${warning.name}: ${warning.message}`));

function handlerFrom(mod: Record<string, unknown>, exportName: string): unknown {
  if (mod[exportName] !== undefined) return mod[exportName];
  // A CommonJS handler bundled as ESM exposes its `module.exports` as the default export.
  const cjs = mod.default;
  return (typeof cjs === 'object' && cjs !== null) || typeof cjs === 'function' ? (cjs as Record<string, unknown>)[exportName] : undefined;
}

/** `a number`, `an object`, `a Promise`: what a handler export that is no function is. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'object') return withArticle(typeof value);
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? withArticle(name) : 'an object';
}

const withArticle = (noun: string): string => `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;

async function load(msg: LoadFunction): Promise<void> {
  fn = msg;
  Object.assign(process.env, msg.env);
  const started = performance.now();
  try {
    const mod = (await import(pathToFileURL(msg.bundlePath).href)) as Record<string, unknown>;
    const found = handlerFrom(mod, msg.exportName);
    if (typeof found !== 'function') {
      // Lambda says `is undefined or not exported` for both; an export that is there deserves better.
      const errorMessage = found === undefined ? `${msg.handler} is undefined or not exported` : `${msg.handler} is ${kindOf(found)}, not a function`;
      send({ type: 'init-failed', error: { errorType: 'Runtime.HandlerNotFound', errorMessage, trace: [] } });
      return;
    }
    handler = found as Handler;
    sendAndFreeze({ type: 'loaded', initDurationMs: performance.now() - started });
  } catch (err) {
    const error = toErrorObject(err);
    if (err instanceof SyntaxError) error.errorType = 'Runtime.UserCodeSyntaxError';
    send({ type: 'init-failed', error });
  }
}

function contextFor(msg: Invoke, f: LoadFunction): object {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: f.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: f.functionArn,
    memoryLimitInMB: String(f.memoryMb),
    awsRequestId: msg.requestId,
    logGroupName: f.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: f.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: msg.clientContext,
    identity: undefined,
    getRemainingTimeInMillis: () => Math.max(0, msg.deadline - Date.now()),
    // Lambda's deprecated context.done/succeed/fail, still used by older handlers.
    done: (err?: unknown, result?: unknown) => invocationCallback?.(err, result),
    succeed: (result?: unknown) => invocationCallback?.(null, result),
    fail: (err?: unknown) => invocationCallback?.(err ?? 'handled'),
  };
}

let invocationCallback: ((err?: unknown, result?: unknown) => void) | undefined;

async function invoke(msg: Invoke): Promise<void> {
  await loading;
  const f = fn;
  const h = handler;
  if (!f || !h) return; // the platform has the init failure and replaces this instance
  current = msg;
  const started = performance.now();
  let settled = false;

  // The IPC channel does not count as work: when nothing of the function is left, the event loop is
  // empty and Lambda's rules for that moment apply (onEmptyLoop).
  let called: [unknown, unknown] | undefined;
  const onEmptyLoop = (): void => {
    if (called) return finish(called[0] ?? null, called[1]);
    // An async handler whose promise can no longer settle fails; any other that never called back
    // answers null (Lambda's runtime, Runtime.js `_setDefaultExitListener`).
    if (isAsyncFunction(h)) return finish(NODE_JS_EXIT, undefined);
    finish(null, null);
  };
  process.channel?.unref();
  process.once('beforeExit', onEmptyLoop);

  const finish = (err: unknown, result: unknown, fatal = false): void => {
    if (settled) return;
    settled = true;
    process.removeListener('beforeExit', onEmptyLoop);
    process.channel?.ref();
    invocationCallback = undefined;
    invocationFailed = undefined;
    const durationMs = performance.now() - started;
    const maxRssKb = process.resourceUsage().maxRSS;
    current = undefined;
    if (err !== null && err !== undefined) {
      const error = err === NODE_JS_EXIT ? NODE_JS_EXIT : toErrorObject(err);
      const failure: FromInstance = { type: 'failure', requestId: msg.requestId, error, durationMs, maxRssKb, fatal };
      if (fatal) send(failure);
      else sendAndFreeze(failure);
      return;
    }
    let payload: string;
    try {
      payload = result === undefined ? 'null' : (JSON.stringify(result) ?? 'null');
    } catch (e) {
      const error = { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${(e as Error).message}`, trace: [] };
      sendAndFreeze({ type: 'failure', requestId: msg.requestId, error, durationMs, maxRssKb, fatal: false });
      return;
    }
    if (payload.length > LAMBDA_LIMITS.MAX_SYNC_RESPONSE_BYTES && Buffer.byteLength(payload) > LAMBDA_LIMITS.MAX_SYNC_RESPONSE_BYTES) {
      const error = {
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size exceeded maximum allowed payload size (${LAMBDA_LIMITS.MAX_SYNC_RESPONSE_BYTES} bytes).`,
        trace: [],
      };
      sendAndFreeze({ type: 'failure', requestId: msg.requestId, error, durationMs, maxRssKb, fatal: false });
      return;
    }
    sendAndFreeze({ type: 'result', requestId: msg.requestId, payload, durationMs, maxRssKb });
  };

  const context = contextFor(msg, f) as { callbackWaitsForEmptyEventLoop: boolean };
  const callback = (err?: unknown, result?: unknown): void => {
    if (settled || called) return; // only the first call counts
    // An error is answered at once; a result once the event loop is empty, unless told not to wait.
    if ((err !== null && err !== undefined) || !context.callbackWaitsForEmptyEventLoop) return finish(err ?? null, result);
    called = [null, result];
  };
  invocationCallback = callback;
  invocationFailed = (err, kind) => {
    if (kind === 'rejection') {
      const reason = err instanceof Error ? err : new Error(String(err));
      const error = new Error(`${reason.name}: ${reason.message}`);
      error.name = 'Runtime.UnhandledPromiseRejection';
      error.stack = reason.stack ?? error.stack;
      finish(error, undefined, true);
    } else {
      finish(err, undefined, true);
    }
  };

  try {
    const payload: unknown = JSON.parse(msg.payload);
    const returned = h.length >= 3 ? h(payload, context, callback) : h(payload, context);
    if (returned && typeof (returned as Promise<unknown>).then === 'function') {
      // A rejection with nothing (`throw null` in an async handler) is still a failure: 'handled'.
      (returned as Promise<unknown>).then(
        (value) => finish(null, value),
        (reason: unknown) => finish(reason ?? 'handled', undefined),
      );
    } else if (h.length < 3) {
      finish(null, returned);
    }
  } catch (err) {
    // A synchronous throw goes to the callback, as Lambda's runtime does: `throw null` is no error.
    callback(err);
  }
}

process.on('message', (msg: ToInstance) => {
  if (msg.type === 'load') loading = load(msg);
  else void invoke(msg);
});

// An error that escapes the handler fails the invocation; the process then exits and the platform
// starts a fresh instance, as Lambda's runtime does (exit code 129).
const fatal = (kind: 'uncaught' | 'rejection') => (err: unknown) => {
  if (invocationFailed) invocationFailed(err, kind);
  else send({ type: 'log', requestId: null, line: `${new Date().toISOString()}\tundefined\tERROR\t${kind === 'rejection' ? 'Unhandled Promise Rejection' : 'Uncaught Exception'}\t${format(err)}` });
  process.exitCode = 129;
  // Let the IPC message drain before exiting.
  setImmediate(() => process.exit(129));
};
process.on('uncaughtException', fatal('uncaught'));
process.on('unhandledRejection', fatal('rejection'));

// The platform went away (even by kill -9): an instance never outlives it.
process.on('disconnect', () => process.exit(0));

send({ type: 'ready' });
