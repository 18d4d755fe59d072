import { describe, expect, it } from 'vitest';
import { runtimeForNode, runtimeMajor } from './lambda.js';

describe('Node.js runtimes', () => {
  it('names the runtime of a Node version', () => {
    expect(runtimeForNode('v20.19.0')).toBe('nodejs20.x');
    expect(runtimeForNode('22.13.1')).toBe('nodejs22.x');
    expect(runtimeForNode('v24.0.0')).toBe('nodejs24.x');
    // An odd release runs what the LTS below it runs; a newer one the newest runtime known.
    expect(runtimeForNode('v23.5.0')).toBe('nodejs22.x');
    expect(runtimeForNode('v26.1.0')).toBe('nodejs24.x');
  });

  it('reads the major version of a runtime', () => {
    expect(runtimeMajor('nodejs20.x')).toBe(20);
    expect(runtimeMajor('nodejs24.x')).toBe(24);
  });
});
