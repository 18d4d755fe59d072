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
  /**
   * Invocations the instance runs at once (`instanceConcurrency`). 1 is Lambda's classic model: one
   * at a time, frozen between them. Above 1, as Lambda Managed Instances: interleaved, never frozen.
   */
  readonly maxConcurrency: number;
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

/**
 * A classic instance is frozen in a blocking read of its thaw pipe (fd 4) between invocations, so its
 * next invocation travels there, as the bytes that wake it: one write instead of a wake-up byte and an
 * IPC message, and the event's JSON text as it is rather than escaped inside another JSON text. A
 * frame is the header's byte length and the payload's (u32 LE each), the header (the invocation
 * without its payload, as JSON), then the payload.
 */
export const FRAME_PREFIX_BYTES = 8;

export function encodeInvokeFrame(msg: Invoke): Buffer {
  const header = JSON.stringify({ requestId: msg.requestId, deadline: msg.deadline, clientContext: msg.clientContext });
  const headerBytes = Buffer.byteLength(header);
  const payloadBytes = Buffer.byteLength(msg.payload);
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + headerBytes + payloadBytes);
  frame.writeUInt32LE(headerBytes, 0);
  frame.writeUInt32LE(payloadBytes, 4);
  frame.write(header, FRAME_PREFIX_BYTES);
  frame.write(msg.payload, FRAME_PREFIX_BYTES + headerBytes);
  return frame;
}

/** The invocation a frame holds, given its prefix and the bytes that follow it. */
export function decodeInvokeFrame(prefix: Buffer, rest: Buffer): Invoke {
  const headerBytes = prefix.readUInt32LE(0);
  const header = JSON.parse(rest.toString('utf8', 0, headerBytes)) as Pick<Invoke, 'requestId' | 'deadline' | 'clientContext'>;
  return { type: 'invoke', ...header, payload: rest.toString('utf8', headerBytes) };
}

/** How many bytes follow a frame's prefix. */
export const frameBodyBytes = (prefix: Buffer): number => prefix.readUInt32LE(0) + prefix.readUInt32LE(4);

/** Invocations sent together: an instance that runs several at once gets those of one turn of the event loop in one message. */
export interface Invokes {
  readonly type: 'invokes';
  readonly invokes: readonly Invoke[];
}

export type ToInstance = LoadFunction | Invoke | Invokes;

/** The process booted and waits for a function. */
export interface Ready { readonly type: 'ready' }
/** The handler module was imported. */
export interface Loaded { readonly type: 'loaded'; readonly initDurationMs: number }
/** Importing the handler module failed, or the export is not a function. */
export interface InitFailed { readonly type: 'init-failed'; readonly error: LambdaErrorObject }
/**
 * A console line. `requestId` is the instance's claim: the platform uses it only to choose among the
 * invocations it has in flight on that instance.
 */
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

/** Messages sent together, in order: an instance running several invocations at once sends one per turn of its event loop. */
export interface Batch {
  readonly type: 'batch';
  readonly messages: readonly (Log | Result | Failure)[];
}

export type FromInstance = Ready | Loaded | InitFailed | Log | Result | Failure | Batch;

/** Bounds of what an instance may send, past which a message is a protocol violation. */
export const MESSAGE_LIMITS = {
  /** A log line over IPC; longer ones are cut by the platform (CloudWatch's 256 KB event limit). */
  MAX_LOG_LINE_CHARS: 256 * 1024,
  /** A result's JSON text: the bootstrap refuses more than Lambda's 6 MB itself; some slack for escapes. */
  MAX_PAYLOAD_CHARS: 7 * 1024 * 1024,
  MAX_ERROR_FIELD_CHARS: 64 * 1024,
  MAX_TRACE_LINES: 200,
  /** Messages in one batch. */
  MAX_BATCH_MESSAGES: 10_000,
} as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isShortString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

/** Lambda's error object with nothing but its fields, or what is wrong with it. */
function lambdaError(e: unknown): LambdaErrorObject | string {
  if (!isObject(e)) return 'error is not an object';
  const { errorType, errorMessage, trace } = e;
  if (!isShortString(errorType, MESSAGE_LIMITS.MAX_ERROR_FIELD_CHARS)) return 'error.errorType is not a string of bounded length';
  if (!isShortString(errorMessage, MESSAGE_LIMITS.MAX_ERROR_FIELD_CHARS)) return 'error.errorMessage is not a string of bounded length';
  if (trace === undefined) return { errorType, errorMessage };
  if (!Array.isArray(trace) || trace.length > MESSAGE_LIMITS.MAX_TRACE_LINES || !trace.every((t) => isShortString(t, MESSAGE_LIMITS.MAX_ERROR_FIELD_CHARS))) {
    return 'error.trace is not a bounded list of strings';
  }
  return { errorType, errorMessage, trace: trace as string[] };
}

/**
 * Checks a message from an instance, which runs untrusted code that can `process.send` anything:
 * returns the message, typed, or what is wrong with it. The one gate between instance and platform.
 * `log` lines are accepted at any length here and cut by the receiver.
 */
export function checkFromInstance(msg: unknown): { ok: true; msg: FromInstance } | { ok: false; problem: string } {
  const bad = (problem: string) => ({ ok: false as const, problem });
  if (!isObject(msg)) return bad('not an object');
  switch (msg['type']) {
    case 'ready':
      return { ok: true, msg: { type: 'ready' } };
    case 'log':
      if (msg['requestId'] !== null && typeof msg['requestId'] !== 'string') return bad('log.requestId is neither a string nor null');
      if (typeof msg['line'] !== 'string') return bad('log.line is not a string');
      return { ok: true, msg: { type: 'log', requestId: msg['requestId'] as string | null, line: msg['line'] } };
    case 'loaded':
      if (!isFiniteNonNegative(msg['initDurationMs'])) return bad('loaded.initDurationMs is not a number >= 0');
      return { ok: true, msg: { type: 'loaded', initDurationMs: msg['initDurationMs'] } };
    case 'init-failed': {
      const error = lambdaError(msg['error']);
      if (typeof error === 'string') return bad(error);
      return { ok: true, msg: { type: 'init-failed', error } };
    }
    case 'batch': {
      const messages = msg['messages'];
      if (!Array.isArray(messages) || messages.length > MESSAGE_LIMITS.MAX_BATCH_MESSAGES) return bad('batch.messages is not a bounded list');
      const checked: (Log | Result | Failure)[] = [];
      for (const m of messages) {
        // Only what an invocation sends may be batched: no batches within batches.
        if (!isObject(m) || (m['type'] !== 'log' && m['type'] !== 'result' && m['type'] !== 'failure')) return bad('batch holds a message that is not log, result or failure');
        const one = checkFromInstance(m);
        if (!one.ok) return one;
        checked.push(one.msg as Log | Result | Failure);
      }
      return { ok: true, msg: { type: 'batch', messages: checked } };
    }
    case 'result':
    case 'failure': {
      const { requestId, durationMs, maxRssKb } = msg;
      if (typeof requestId !== 'string') return bad(`${msg['type']}.requestId is not a string`);
      if (!isFiniteNonNegative(durationMs)) return bad(`${msg['type']}.durationMs is not a number >= 0`);
      if (!isFiniteNonNegative(maxRssKb)) return bad(`${msg['type']}.maxRssKb is not a number >= 0`);
      if (msg['type'] === 'result') {
        if (!isShortString(msg['payload'], MESSAGE_LIMITS.MAX_PAYLOAD_CHARS)) return bad('result.payload is not a string of bounded length');
        return { ok: true, msg: { type: 'result', requestId, payload: msg['payload'], durationMs, maxRssKb } };
      }
      const error = lambdaError(msg['error']);
      if (typeof error === 'string') return bad(error);
      if (typeof msg['fatal'] !== 'boolean') return bad('failure.fatal is not a boolean');
      return { ok: true, msg: { type: 'failure', requestId, error, durationMs, maxRssKb, fatal: msg['fatal'] } };
    }
    default:
      return bad(`unknown type ${JSON.stringify(String(msg['type'])).slice(0, 40)}`);
  }
}
