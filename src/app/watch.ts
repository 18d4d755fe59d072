/**
 * Watches the source of an app: the directories holding its manifest and the files its bundles were
 * built from (dependencies under node_modules excepted), and calls `onChange` once per burst of
 * changes. Directories are watched one by one, not recursively: a recursive watch on Linux is set up
 * asynchronously by Node 20 and misses changes made right after start.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/** Editors write a file in several steps; one rebuild per burst is enough. */
const DEBOUNCE_MS = 40;
const IGNORED = /(^|[/\\])(\.nuvola|\.git|node_modules)([/\\]|$)/;

export interface AppWatcher {
  /** Watches these source files (after a rebuild found new ones) besides the app directory. */
  update(files: readonly string[]): void;
  close(): void;
}

export function watchApp(dir: string, files: readonly string[], onChange: () => void): AppWatcher {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  const changed = (_event: string, name: string | Buffer | null) => {
    if (name && IGNORED.test(name.toString())) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, DEBOUNCE_MS);
  };
  const update = (list: readonly string[]) => {
    const dirs = new Set([path.resolve(dir), ...list.filter((f) => !IGNORED.test(f)).map((f) => path.dirname(path.resolve(f)))]);
    for (const [d, w] of watchers) {
      if (dirs.has(d)) continue;
      w.close();
      watchers.delete(d);
    }
    for (const d of dirs) {
      if (watchers.has(d)) continue;
      try {
        const w = watch(d, changed);
        w.on('error', () => undefined);
        watchers.set(d, w);
      } catch {
        // A directory removed since its file was bundled: the next build says what is missing.
      }
    }
  };
  update(files);
  return {
    update,
    close() {
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
