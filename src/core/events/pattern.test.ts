import { describe, expect, it } from 'vitest';
import { matches } from './match.js';
import { compilePattern } from './pattern.js';
import { RuleSet } from './rule-set.js';

const event = {
  version: '0',
  id: '1',
  source: 'shop.orders',
  'detail-type': 'Order Placed',
  account: '000000000000',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { total: 42.5, currency: 'EUR', ip: '10.0.3.7', items: [{ sku: 'a-1', qty: 2 }, { sku: 'b-2', qty: 1 }], note: null },
};

describe('event patterns', () => {
  const m = (pattern: unknown) => matches(compilePattern(pattern), event);

  it('matches exact values, nesting, arrays and the operators', () => {
    expect(m({ source: ['shop.orders'], detail: { currency: ['EUR', 'USD'] } })).toBe(true);
    expect(m({ detail: { total: [{ numeric: ['>', 40, '<=', 42.5] }] } })).toBe(true);
    expect(m({ detail: { ip: [{ cidr: '10.0.0.0/16' }] } })).toBe(true);
    expect(m({ detail: { items: { sku: [{ prefix: 'b-' }] } } })).toBe(true);
    expect(m({ detail: { currency: [{ 'anything-but': ['USD'] }], note: [null] } })).toBe(true);
    expect(m({ detail: { missing: [{ exists: false }], currency: [{ exists: true }] } })).toBe(true);
    expect(m({ 'detail-type': [{ 'equals-ignore-case': 'order placed' }], source: [{ wildcard: 'shop.*' }] })).toBe(true);
    expect(m({ $or: [{ source: ['nope'] }, { detail: { currency: ['EUR'] } }] })).toBe(true);
    expect(m({ detail: { total: [{ numeric: ['<', 10] }] } })).toBe(false);
  });

  it('keeps fields of one array element together', () => {
    expect(m({ detail: { items: { sku: ['a-1'], qty: [2] } } })).toBe(true);
    expect(m({ detail: { items: { sku: ['a-1'], qty: [1] } } })).toBe(false);
  });

  it("refuses bad patterns with EventBridge's messages", () => {
    expect(() => compilePattern('{"source": []}')).toThrow('Event pattern is not valid. Reason: Empty arrays are not allowed');
    expect(() => compilePattern({ source: [{ wildcard: 'a**b' }] })).toThrow('Reason: Consecutive wildcard characters at pos 2');
    expect(() => compilePattern({ source: 'x' })).toThrow('Reason: "source" must be an object or an array');
    expect(() => compilePattern('x'.repeat(5000))).toThrow(/too long/);
  });
});

describe('rule sets', () => {
  it('finds the rules an event matches, whether or not they name its source', () => {
    const rules = new RuleSet();
    rules.add('orders', compilePattern({ source: ['shop.orders'] }));
    rules.add('payments', compilePattern({ source: ['shop.payments'] }));
    rules.add('euros', compilePattern({ detail: { currency: ['EUR'] } }));
    rules.add('big', compilePattern({ source: [{ prefix: 'shop.' }], detail: { total: [{ numeric: ['>', 100] }] } }));
    expect(rules.match(event)).toEqual(['orders', 'euros']);
    rules.remove('euros');
    rules.add('orders', compilePattern({ source: ['shop.payments'] }));
    expect(rules.match(event)).toEqual([]);
    expect(rules.size).toBe(3);
  });
});
