import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { populateTaskRoot } from './task-root.js';

const roots: string[] = [];
afterAll(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

/** A build's files directory holding `files`, and an empty code directory. */
function setup(files: Record<string, string>): { root: string; codeDir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nuvola-task-root-'));
  roots.push(dir);
  const root = path.join(dir, 'build', 'files');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  const codeDir = path.join(dir, 'instance', 'code');
  mkdirSync(codeDir, { recursive: true });
  return { root, codeDir };
}

describe('populateTaskRoot', () => {
  it('puts each file at its path in the task root, as hard links to the build', () => {
    const { root, codeDir } = setup({ 'data/greeting.json': '{"hello":"world"}', 'data/deep/er/x.txt': 'x', 'top.txt': 'top' });
    populateTaskRoot(codeDir, { root, paths: ['data/deep/er/x.txt', 'data/greeting.json', 'top.txt'] });
    expect(readFileSync(path.join(codeDir, 'data/greeting.json'), 'utf8')).toBe('{"hello":"world"}');
    expect(readFileSync(path.join(codeDir, 'data/deep/er/x.txt'), 'utf8')).toBe('x');
    expect(readFileSync(path.join(codeDir, 'top.txt'), 'utf8')).toBe('top');
    expect(statSync(path.join(codeDir, 'top.txt')).ino).toBe(statSync(path.join(root, 'top.txt')).ino);
  });

  it('does nothing without files', () => {
    const { codeDir } = setup({});
    populateTaskRoot(codeDir, undefined);
    populateTaskRoot(codeDir, { root: '/nowhere', paths: [] });
  });

  it('replaces what an earlier load left', () => {
    const { root, codeDir } = setup({ 'a.txt': 'new' });
    writeFileSync(path.join(codeDir, 'a.txt'), 'old');
    populateTaskRoot(codeDir, { root, paths: ['a.txt'] });
    expect(readFileSync(path.join(codeDir, 'a.txt'), 'utf8')).toBe('new');
  });

  it('refuses a path out of the task root', () => {
    const { root, codeDir } = setup({ 'a.txt': 'a' });
    expect(() => populateTaskRoot(codeDir, { root, paths: ['../a.txt'] })).toThrow(/outside the task root/);
    expect(() => populateTaskRoot(codeDir, { root, paths: ['/etc/passwd'] })).toThrow(/outside the task root/);
  });

  it('fails when a file of the build is missing, rather than loading code without it', () => {
    const { root, codeDir } = setup({});
    expect(() => populateTaskRoot(codeDir, { root, paths: ['gone.txt'] })).toThrow(/ENOENT/);
  });
});
