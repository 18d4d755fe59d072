import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, PlatformError, isPlatformError } from './errors.js';

describe('the error registry', () => {
  const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (user|system) \| ([^|]+) \|/gm)].map((m) => ({ code: m[1]!, kind: m[2]!, summary: m[3]!.trim() }));

  it('is documented in docs/errors.md, code for code, with the same kind and summary', () => {
    expect(rows.map((r) => r.code).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const row of rows) {
      const entry = ERROR_CODES[row.code as keyof typeof ERROR_CODES];
      expect({ code: row.code, kind: row.kind, summary: row.summary }).toEqual({ code: row.code, kind: entry.kind, summary: entry.summary });
    }
  });

  it('crosses process boundaries as {name, code, message, stack}', () => {
    const err = new PlatformError('FUNCTION_NOT_FOUND', 'Function not found: x');
    const wire = JSON.parse(JSON.stringify(err)) as Record<string, unknown>;
    expect(Object.keys(wire).sort()).toEqual(['code', 'message', 'name', 'stack']);
    expect(wire.code).toBe('FUNCTION_NOT_FOUND');
    expect(err.kind).toBe('user');
    expect(isPlatformError(err, 'FUNCTION_NOT_FOUND')).toBe(true);
    expect(isPlatformError(err, 'INTERNAL')).toBe(false);
  });
});
