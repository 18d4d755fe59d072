import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/helpers/random.js';
import { checkFromInstance, decodeInvokeFrame, encodeInvokeFrame, FRAME_PREFIX_BYTES, frameBodyBytes, MESSAGE_LIMITS } from './protocol.js';

const TYPES = ['ready', 'log', 'loaded', 'init-failed', 'result', 'failure', 'batch', 'invoke', '__proto__', 'constructor'];

function garbage(next: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  switch (Math.floor(next() * (depth > 2 ? 6 : 8))) {
    case 0: return null;
    case 1: return pick([0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53]);
    case 2: return pick(['', 'x', 'r-1', '__proto__', 'x'.repeat(300)]);
    case 3: return next() < 0.5;
    case 4: return undefined;
    case 5: return pick(TYPES);
    case 6: return Array.from({ length: Math.floor(next() * 4) }, () => garbage(next, depth + 1));
    default: {
      const o: Record<string, unknown> = { type: pick(TYPES) };
      for (const k of ['messages', 'requestId', 'line', 'payload', 'durationMs', 'maxRssKb', 'initDurationMs', 'error', 'fatal', 'errorType', 'errorMessage', 'trace']) {
        if (next() < 0.5) o[k] = garbage(next, depth + 1);
      }
      return o;
    }
  }
}

describe('messages from an instance', () => {
  it('accepts what the bootstrap sends', () => {
    const error = { errorType: 'Error', errorMessage: 'boom', trace: ['Error: boom'] };
    for (const msg of [
      { type: 'ready' },
      { type: 'log', requestId: null, line: 'hello' },
      { type: 'loaded', initDurationMs: 2.5 },
      { type: 'init-failed', error },
      { type: 'result', requestId: 'r', payload: '{"a":1}', durationMs: 1.2, maxRssKb: 40000 },
      { type: 'failure', requestId: 'r', error, durationMs: 1, maxRssKb: 1, fatal: false },
      { type: 'batch', messages: [{ type: 'log', requestId: 'r', line: 'x' }, { type: 'result', requestId: 'r', payload: '1', durationMs: 1, maxRssKb: 1 }] },
    ]) {
      expect(checkFromInstance(msg)).toEqual({ ok: true, msg });
    }
  });

  it('refuses batches within batches, messages an invocation does not send, bad members and endless lists', () => {
    const log = { type: 'log', requestId: null, line: 'x' };
    expect(checkFromInstance({ type: 'batch', messages: [log, { type: 'batch', messages: [] }] })).toMatchObject({ ok: false });
    expect(checkFromInstance({ type: 'batch', messages: [{ type: 'ready' }] })).toMatchObject({ ok: false });
    expect(checkFromInstance({ type: 'batch', messages: [log, { type: 'log', line: 3 }] })).toMatchObject({ ok: false, problem: 'log.requestId is neither a string nor null' });
    expect(checkFromInstance({ type: 'batch', messages: Array.from({ length: MESSAGE_LIMITS.MAX_BATCH_MESSAGES + 1 }, () => log) })).toMatchObject({ ok: false });
    expect(checkFromInstance({ type: 'batch', messages: 'x' })).toMatchObject({ ok: false });
  });

  it('refuses malformed ones with the reason, and keeps only the known fields', () => {
    expect(checkFromInstance({ type: 'log', requestId: null, line: null })).toEqual({ ok: false, problem: 'log.line is not a string' });
    expect(checkFromInstance({ type: 'result', requestId: 'r', payload: '1', durationMs: 'x', maxRssKb: 1 })).toEqual({ ok: false, problem: 'result.durationMs is not a number >= 0' });
    expect(checkFromInstance({ type: 'loaded', initDurationMs: -1 })).toMatchObject({ ok: false });
    expect(checkFromInstance({ type: 'result', requestId: 'r', payload: 'x'.repeat(MESSAGE_LIMITS.MAX_PAYLOAD_CHARS + 1), durationMs: 1, maxRssKb: 1 })).toMatchObject({ ok: false });
    expect(checkFromInstance('ready')).toEqual({ ok: false, problem: 'not an object' });
    const checked = checkFromInstance({ type: 'init-failed', error: { errorType: 'E', errorMessage: 'm', extra: 'x'.repeat(1000) }, more: 1 });
    expect(checked).toEqual({ ok: true, msg: { type: 'init-failed', error: { errorType: 'E', errorMessage: 'm' } } });
  });

  it('never throws on 20,000 random values, and lets through only well-formed messages', () => {
    const next = seededRandom(20261123);
    for (let i = 0; i < 20_000; i++) {
      const value = garbage(next);
      const checked = checkFromInstance(value);
      if (!checked.ok) {
        expect(typeof checked.problem).toBe('string');
        continue;
      }
      const m = checked.msg;
      if (m.type === 'log') expect(typeof m.line).toBe('string');
      if (m.type === 'result' || m.type === 'failure') {
        expect(Number.isFinite(m.durationMs) && m.durationMs >= 0).toBe(true);
        expect(typeof m.requestId).toBe('string');
      }
      if (m.type === 'loaded') expect(Number.isFinite(m.initDurationMs)).toBe(true);
    }
  });
});

describe('invocation frames on the thaw pipe', () => {
  it('carry an invocation, its payload in any script, as it was', () => {
    const msg = { type: 'invoke' as const, requestId: 'r-1', deadline: 1_700_000_000_000, clientContext: { custom: { a: 'é' } }, payload: '{"k":"ä€😀\\n"}' };
    const frame = encodeInvokeFrame(msg);
    const prefix = frame.subarray(0, FRAME_PREFIX_BYTES);
    expect(frameBodyBytes(prefix)).toBe(frame.length - FRAME_PREFIX_BYTES);
    expect(decodeInvokeFrame(prefix, frame.subarray(FRAME_PREFIX_BYTES))).toEqual(msg);
  });
});
