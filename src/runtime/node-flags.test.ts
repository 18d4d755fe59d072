import { describe, expect, it } from 'vitest';
import { instanceFlags, permissionFlag } from './node-flags.js';

const node = (...flags: string[]) => new Set(flags);
const paths = { bootstrapPath: '/b/bootstrap.mjs', codeDir: '/i/code', tmpDir: '/i/tmp' };

describe('instance flags', () => {
  it('use the permission flag the running Node knows', () => {
    expect(permissionFlag(node('--experimental-permission'))).toBe('--experimental-permission');
    // Node 22.13+ knows both names; Node 24 only the stable one.
    expect(permissionFlag(node('--experimental-permission', '--permission'))).toBe('--permission');
    expect(permissionFlag(node('--permission'))).toBe('--permission');
    expect(() => permissionFlag(node())).toThrow(/permission model/);
  });

  it('are all accepted by the Node running this test', () => {
    const flags = instanceFlags(paths, 108);
    for (const flag of flags) expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0]!), flag).toBe(true);
    expect(flags).toContain('--max-old-space-size=108');
    expect(flags).toContain('--allow-fs-write=/i/tmp/');
  });
});
