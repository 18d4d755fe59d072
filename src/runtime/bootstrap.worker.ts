/**
 * The code that runs inside a function instance: a Node process started empty (before any function
 * is known, so that a cold start costs only the handler's import), then handed one function by a
 * `load` message and then its invocations: one at a time, frozen between them (each arrives on the
 * thaw pipe), or with `maxConcurrency` above 1 that
 * many at once, as Lambda Managed Instances run them. It follows the Lambda Node.js runtime:
 * `async (event, context)` or callback handlers, console output tagged with the request id, and
 * Lambda's error objects. The platform enforces timeouts and memory from outside.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs, { readSync, type PathLike } from 'node:fs';
import path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import os, { constants as osConstants } from 'node:os';
import { format, types } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { FRAME_PREFIX_BYTES, decodeInvokeFrame, frameBodyBytes, type FromInstance, type Invoke, type LambdaErrorObject, type LoadFunction, type ToInstance } from './protocol.js';
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

/** Messages of this turn of the event loop, sent as one batch (instances running several invocations at once). */
let outbox: FromInstance[] | undefined;

const send = (msg: FromInstance): void => {
  if (!batching || msg.type === 'ready' || msg.type === 'loaded' || msg.type === 'init-failed') {
    process.send?.(msg);
    return;
  }
  if (!outbox) {
    outbox = [];
    setImmediate(flush);
  }
  outbox.push(msg);
};

function flush(): void {
  const messages = outbox ?? [];
  outbox = undefined;
  if (messages.length === 1) process.send?.(messages[0]);
  else if (messages.length > 1) process.send?.({ type: 'batch', messages });
}

/** Set at load for a function that runs several invocations at once. */
let batching = false;

/** The platform writes each invocation here (protocol.ts's frames); end of file means it is gone. */
const THAW_FD = 4;

/**
 * Lambda freezes an execution environment between invocations: code the function left scheduled
 * (timers, pending I/O) does not run until the next one. Here the whole thread blocks reading the
 * thaw pipe once the message is out, so nothing runs, nothing allocates; the next invocation's frame
 * resumes it, and the platform's death closes the pipe, which ends the process. The invocation
 * starts two turns of the event loop later: its timers phase comes first, so what was overdue fires
 * within the new invocation and before its handler, as on a thawed Lambda, where the runtime
 * fetches the next event over the network while timers run.
 */
function sendAndFreeze(msg: FromInstance): void {
  if (!process.send) return;
  process.send(msg, () => {
    let frame: Invoke;
    try {
      const prefix = readExactly(FRAME_PREFIX_BYTES);
      frame = decodeInvokeFrame(prefix, readExactly(frameBodyBytes(prefix)));
    } catch {
      return; // no thaw pipe (started by hand): run unfrozen, invocations come as messages
    }
    setImmediate(() => setImmediate(() => void invoke(frame)));
  });
}

/** Exactly `n` bytes of the thaw pipe, blocking; the process exits at its end (the platform is gone). */
function readExactly(n: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    const read = readSync(THAW_FD, buf, got, n - got, null);
    if (read === 0) process.exit(0);
    got += read;
  }
  return buf;
}

type Handler = (event: unknown, context: object, callback?: (err?: unknown, result?: unknown) => void) => unknown;

let fn: LoadFunction | undefined;
let handler: Handler | undefined;
let loading: Promise<void> = Promise.resolve();

/** One invocation in flight. */
interface Invocation {
  readonly msg: Invoke;
  /** Answers it (once): an error, or else the result. */
  readonly finish: (err: unknown, result: unknown, fatal?: boolean) => void;
  /** The event loop is empty and the invocation has not answered: Lambda's rules for that moment. */
  readonly onEmptyLoop: () => void;
}

const inFlight = new Map<string, Invocation>();
/**
 * With `maxConcurrency` above 1 invocations interleave, and the one a console line belongs to is the
 * one whose asynchronous context is running: made only then (on Node 20 it costs every promise).
 */
let contexts: AsyncLocalStorage<Invocation> | undefined;

/** The invocation the running code belongs to, if any. */
function currentInvocation(): Invocation | undefined {
  if (contexts) return contexts.getStore();
  for (const only of inFlight.values()) return only;
  return undefined;
}

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
    const requestId = currentInvocation()?.msg.requestId ?? null;
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
    answer({ type: 'loaded', initDurationMs: performance.now() - started });
  } catch (err) {
    const error = toErrorObject(err);
    if (err instanceof SyntaxError) error.errorType = 'Runtime.UserCodeSyntaxError';
    send({ type: 'init-failed', error });
  }
}

function contextFor(msg: Invoke, f: LoadFunction, callback: (err?: unknown, result?: unknown) => void): object {
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
    done: (err?: unknown, result?: unknown) => callback(err, result),
    succeed: (result?: unknown) => callback(null, result),
    fail: (err?: unknown) => callback(err ?? 'handled'),
  };
}

/** Lambda's record of an error that escaped the handler: an unhandled rejection is named as such. */
function escapedError(err: unknown, kind: 'uncaught' | 'rejection'): unknown {
  if (kind === 'uncaught') return err;
  const reason = err instanceof Error ? err : new Error(String(err));
  const error = new Error(`${reason.name}: ${reason.message}`);
  error.name = 'Runtime.UnhandledPromiseRejection';
  error.stack = reason.stack ?? error.stack;
  return error;
}

/** Peak memory in KB; read at most once per `MAX_RSS_TTL_MS`, a syscall saved on most answers. */
let maxRss = { kb: 0, at: -Infinity };
const MAX_RSS_TTL_MS = 5;
function maxRssKb(now: number): number {
  if (now - maxRss.at >= MAX_RSS_TTL_MS) maxRss = { kb: process.resourceUsage().maxRSS, at: now };
  return maxRss.kb;
}

/** Sends an answer; in the classic model the instance then freezes until its next invocation. */
function answer(msg: FromInstance): void {
  if (fn?.maxConcurrency === 1) sendAndFreeze(msg);
  else send(msg);
}

async function invoke(msg: Invoke): Promise<void> {
  await loading;
  const f = fn;
  const h = handler;
  if (!f || !h) return; // the platform has the init failure and replaces this instance
  const started = performance.now();
  let settled = false;
  const concurrent = f.maxConcurrency > 1;

  /** A callback's result, held until the event loop is empty (classic model only). */
  let called: [unknown, unknown] | undefined;
  const finish = (err: unknown, result: unknown, fatal = false): void => {
    if (settled) return;
    settled = true;
    inFlight.delete(msg.requestId);
    if (inFlight.size === 0) process.channel?.ref();
    const durationMs = performance.now() - started;
    const rssKb = maxRssKb(performance.now());
    if (err !== null && err !== undefined) {
      const error = err === NODE_JS_EXIT ? NODE_JS_EXIT : toErrorObject(err);
      const failure: FromInstance = { type: 'failure', requestId: msg.requestId, error, durationMs, maxRssKb: rssKb, fatal };
      if (fatal) send(failure);
      else answer(failure);
      return;
    }
    let payload: string;
    try {
      payload = result === undefined ? 'null' : (JSON.stringify(result) ?? 'null');
    } catch (e) {
      const error = { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${(e as Error).message}`, trace: [] };
      answer({ type: 'failure', requestId: msg.requestId, error, durationMs, maxRssKb: rssKb, fatal: false });
      return;
    }
    if (payload.length > LAMBDA_LIMITS.MAX_SYNC_RESPONSE_BYTES && Buffer.byteLength(payload) > LAMBDA_LIMITS.MAX_SYNC_RESPONSE_BYTES) {
      const error = {
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size exceeded maximum allowed payload size (${LAMBDA_LIMITS.MAX_SYNC_RESPONSE_BYTES} bytes).`,
        trace: [],
      };
      answer({ type: 'failure', requestId: msg.requestId, error, durationMs, maxRssKb: rssKb, fatal: false });
      return;
    }
    answer({ type: 'result', requestId: msg.requestId, payload, durationMs, maxRssKb: rssKb });
  };

  // An async handler whose promise can no longer settle fails; any other that never called back
  // answers null (Lambda's runtime, Runtime.js `_setDefaultExitListener`).
  const onEmptyLoop = (): void => {
    if (called) return finish(called[0] ?? null, called[1]);
    if (isAsyncFunction(h)) return finish(NODE_JS_EXIT, undefined);
    finish(null, null);
  };

  const callback = (err?: unknown, result?: unknown): void => {
    if (settled || called) return; // only the first call counts
    // An error is answered at once; a result once the event loop is empty, unless told not to wait.
    // Invocations that share the event loop cannot wait for it to empty: they answer at once.
    if ((err !== null && err !== undefined) || !context.callbackWaitsForEmptyEventLoop || concurrent) return finish(err ?? null, result);
    called = [null, result];
  };
  const context = contextFor(msg, f, callback) as { callbackWaitsForEmptyEventLoop: boolean };
  const invocation: Invocation = { msg, finish, onEmptyLoop };

  // The IPC channel does not count as work: when nothing of the function is left, the event loop is
  // empty and Lambda's rules for that moment apply (see the 'beforeExit' listener).
  if (inFlight.size === 0) process.channel?.unref();
  inFlight.set(msg.requestId, invocation);

  const run = (): void => {
    try {
      const payload: unknown = JSON.parse(msg.payload);
      const returned = h.length >= 3 ? h(payload, context, callback) : h(payload, context);
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        // A rejection with nothing (`throw null` in an async handler) is still a failure: 'handled'.
        (returned as Promise<unknown>).then(
          (value) => finish(null, value),
          (reason: unknown) => finish(reason ?? 'handled', undefined),
        );
      } else if (returned !== undefined) {
        // Lambda's runtime ignores what a handler that is not async returns: it answers null once the
        // event loop is empty, unless the callback is called. The same here, said where it is seen.
        console.warn(
          'The handler returned a value without a promise: Lambda ignores it and answers null. Make the handler async, or pass the value to the callback.',
        );
        if (concurrent) finish(null, null);
      } else if (concurrent) {
        // Invocations that share the event loop cannot wait for it to empty: a handler that returned
        // nothing and has not called back is done.
        if (h.length < 3) finish(null, null);
      }
    } catch (err) {
      // A synchronous throw goes to the callback, as Lambda's runtime does: `throw null` is no error.
      callback(err);
    }
  };
  if (contexts) contexts.run(invocation, run);
  else run();
}

// Nothing of the function is left to run: every invocation still in flight gets Lambda's answer for that.
process.on('beforeExit', () => {
  for (const invocation of [...inFlight.values()]) invocation.onEmptyLoop();
});

process.on('message', (msg: ToInstance) => {
  if (msg.type === 'load') {
    if (msg.maxConcurrency > 1) {
      contexts = new AsyncLocalStorage<Invocation>();
      batching = true;
    }
    loading = load(msg);
  } else if (msg.type === 'invokes') {
    for (const one of msg.invokes) void invoke(one);
  } else {
    void invoke(msg);
  }
});

// An error that escapes the handler fails the invocation; the process then exits and the platform
// starts a fresh instance, as Lambda's runtime does (exit code 129). Invocations sharing the process
// cannot be told apart from the one that failed, and the process ends under them: all fail with it.
const fatal = (kind: 'uncaught' | 'rejection') => (err: unknown) => {
  const victims = [...inFlight.values()];
  if (victims.length > 0) for (const invocation of victims) invocation.finish(escapedError(err, kind), undefined, true);
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
