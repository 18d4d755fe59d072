// Every EventBridge pattern case of the conformance data (test/conformance/eventbridge), with the pass
// rate per operator. Cases recorded against AWS win over the event-ruler library's where they differ.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPlatformError } from '../errors.js';
import { matches } from './match.js';
import { compilePattern } from './pattern.js';

interface Case {
  id: number;
  name: string;
  pattern?: unknown;
  patternRaw?: string;
  event?: unknown;
  eventRaw?: string;
  matches: boolean | null;
  expectError?: boolean;
  errorCode?: string;
  errorMessage?: string;
  operators: string[];
  awsValidated: boolean;
}

const DIR = path.resolve(import.meta.dirname, '../../../test/conformance/eventbridge');
const cases = JSON.parse(readFileSync(path.join(DIR, 'cases.json'), 'utf8')) as Case[];
const validity = JSON.parse(readFileSync(path.join(DIR, 'pattern-validity.json'), 'utf8')) as { pattern: string; valid: boolean; message?: string }[];

/** What this engine answers for a case: matched, not matched, or the pattern's error message. */
function run(c: Case): { matched?: boolean; error?: string } {
  try {
    const compiled = compilePattern(c.patternRaw ?? JSON.stringify(c.pattern));
    if (c.eventRaw !== undefined) {
      try {
        JSON.parse(c.eventRaw);
      } catch {
        return { error: 'event is not JSON' };
      }
    }
    return { matched: matches(compiled, c.eventRaw !== undefined ? JSON.parse(c.eventRaw) : c.event) };
  } catch (err) {
    if (isPlatformError(err, 'INVALID_EVENT_PATTERN')) return { error: err.message };
    throw err;
  }
}

function passes(c: Case): boolean {
  const got = run(c);
  if (c.expectError) {
    // An error the reference gives for the event, not the pattern (ValidationException), is the bus's to give.
    if (c.errorCode !== 'InvalidEventPatternException') return true;
    if (got.error === undefined) return false;
    return !c.awsValidated || got.error === c.errorMessage;
  }
  return got.matched === c.matches;
}

/** Cases known to fail, with the reason: this list must only shrink. */
const KNOWN_FAILURES: Record<number, string> = {};

describe('EventBridge pattern conformance', () => {
  it('passes every case but the known failures, and prints the pass rate per operator', () => {
    const rates = new Map<string, { pass: number; all: number }>();
    const failing: number[] = [];
    for (const c of cases) {
      const ok = passes(c);
      if (!ok) failing.push(c.id);
      for (const op of c.operators.length > 0 ? c.operators : ['(none)']) {
        const key = `${op}${c.awsValidated ? ' (AWS)' : ''}`;
        const r = rates.get(key) ?? { pass: 0, all: 0 };
        r.all++;
        if (ok) r.pass++;
        rates.set(key, r);
      }
    }
    const lines = [...rates].sort(([a], [b]) => a.localeCompare(b)).map(([op, r]) => `${op.padEnd(28)} ${r.pass}/${r.all}`);
    console.log(`event pattern cases: ${cases.length - failing.length}/${cases.length}\n${lines.join('\n')}`);
    for (const id of failing) {
      const c = cases.find((x) => x.id === id)!;
      if (!(id in KNOWN_FAILURES)) console.log('FAIL', id, c.name, JSON.stringify(c.pattern ?? c.patternRaw).slice(0, 200), JSON.stringify(run(c)), c.errorMessage ?? c.matches);
    }
    expect(failing.filter((id) => !(id in KNOWN_FAILURES))).toEqual([]);
    expect(Object.keys(KNOWN_FAILURES).map(Number).filter((id) => !failing.includes(id))).toEqual([]);
  });

  it('accepts and refuses the patterns of the validity data', () => {
    const wrong = validity.filter((v) => {
      try {
        compilePattern(v.pattern);
        return !v.valid;
      } catch (err) {
        if (!isPlatformError(err, 'INVALID_EVENT_PATTERN')) throw err;
        return v.valid;
      }
    });
    console.log(`pattern validity: ${validity.length - wrong.length}/${validity.length}`);
    for (const w of wrong) console.log('VALIDITY', w.valid ? 'should accept' : 'should refuse', w.pattern.replace(/\s+/g, ' ').slice(0, 160));
    expect(wrong.map((w) => w.pattern)).toEqual([]);
  });
});
