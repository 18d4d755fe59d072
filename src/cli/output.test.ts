import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../ports/executor.js';
import { formatLog, formatReload, formatRequest, paint } from './output.js';

const plain = paint(false);
const color = paint(true);
const ESC = '\u001b[';
const record = (message: string, stream: LogRecord['stream'] = 'stdout'): LogRecord => ({ fn: 'getItem', requestId: 'r1', time: 0, stream, message });

describe('dev output', () => {
  it('shows a request as method, path, status, function, duration and cold', () => {
    expect(formatRequest({ method: 'GET', path: '/items/42', status: 200, fn: 'getItem', durationMs: 3.24, cold: true }, plain)).toBe('GET /items/42 200 getItem 3.2 ms cold');
    expect(formatRequest({ method: 'POST', path: '/x', status: 404, durationMs: 120.6, cold: false }, plain)).toBe('POST /x 404 - 121 ms');
  });

  it('colours only when asked to', () => {
    const line = formatRequest({ method: 'GET', path: '/', status: 500, fn: 'f', durationMs: 1, cold: false }, color);
    expect(line).toContain(`${ESC}31m500${ESC}39m`);
    expect(formatRequest({ method: 'GET', path: '/', status: 500, fn: 'f', durationMs: 1, cold: false }, plain)).not.toContain(ESC);
  });

  it('shows console lines without their timestamp and request id', () => {
    expect(formatLog(record('2026-11-23T10:00:00.000Z\tr1\tINFO\tloaded 3 items'), plain)).toBe('getItem loaded 3 items');
    expect(formatLog(record('2026-11-23T10:00:00.000Z\tr1\tWARN\tslow\nsecond line'), plain)).toBe('getItem WARN slow\n    second line');
    expect(formatLog(record('raw write'), plain)).toBe('getItem raw write');
  });

  it('shows a failed invocation with its error and stack, and hides the runtime bookkeeping', () => {
    const error = { errorType: 'TypeError', errorMessage: 'x is undefined', trace: ['TypeError: x is undefined', '    at handler (src/items.ts:3:9)'] };
    const line = formatLog(record(`2026-11-23T10:00:00.000Z\tr1\tERROR\tInvoke Error \t${JSON.stringify(error)}`, 'runtime'), plain);
    expect(line).toBe('getItem ERROR TypeError: x is undefined\n    at handler (src/items.ts:3:9)');
    expect(formatLog(record('2026-11-23T10:00:00.000Z r1 Task timed out after 3.00 seconds', 'runtime'), plain)).toBe('getItem ERROR Task timed out after 3.00 seconds');
    for (const m of ['START RequestId: r1 Version: $LATEST', 'END RequestId: r1', 'REPORT RequestId: r1\tDuration: 1 ms']) {
      expect(formatLog(record(m, 'runtime'), plain)).toBeUndefined();
    }
  });

  it('says what a reload changed, and when a broken app loads again', () => {
    const changes = { functions: { changed: ['getItem'], added: ['x'], removed: [] }, gateway: { added: ['GET /x → x'], removed: [] } };
    expect(formatReload({ ms: 40, fixed: false, changes }, plain)).toEqual([
      'Reloaded (40 ms)',
      '  ~ functions changed: getItem',
      '  + functions added: x',
      '  + routes added: GET /x → x',
    ]);
    expect(formatReload({ ms: 40, fixed: false, changes: { functions: { changed: [] } } }, plain)).toEqual([]);
    expect(formatReload({ ms: 40, fixed: true, changes: {} }, plain)).toEqual(['Fixed: the app loads again; reloaded (40 ms)']);
  });
});
