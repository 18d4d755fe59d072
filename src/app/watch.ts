/**
 * Watches an app's directory for source changes (not its state or dependencies' installs) and
 * calls `onChange` once per burst of changes.
 */
import { watch, type FSWatcher } from 'node:fs';

/** Editors write a file in several steps; one rebuild per burst is enough. */
const DEBOUNCE_MS = 40;
const IGNORED = /(^|[/\\])(\.nimbus|\.git|node_modules)([/\\]|$)/;

export function watchApp(dir: string, onChange: (files: string[]) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let changed = new Set<string>();
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, file) => {
    const name = file?.toString();
    if (name && IGNORED.test(name)) return;
    if (name) changed.add(name);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...changed];
      changed = new Set();
      onChange(files);
    }, DEBOUNCE_MS);
  });
  watcher.on('error', () => undefined);
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
