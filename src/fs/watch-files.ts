import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/**
 * Calls `onChange` after any of the files changes, debounced, so a burst of changes (a
 * certificate and its key written one after the other) is one call. Watches their folders
 * rather than the files: editors and Kubernetes ConfigMap and Secret updates replace a file
 * (rename, or a swapped `..data` symlink), which a watch on the old file would miss.
 */
export function watchFiles(files: readonly string[], onChange: () => void, debounceMs = 250): () => void {
  const namesByFolder = new Map<string, Set<string>>();
  for (const file of files) {
    const folder = path.dirname(path.resolve(file));
    const names = namesByFolder.get(folder) ?? new Set<string>();
    namesByFolder.set(folder, names.add(path.basename(file)));
  }
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const [folder, names] of namesByFolder) {
    try {
      const watcher = watch(folder, (_event, name) => {
        if (name !== null && !names.has(name) && name !== '..data') return;
        clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      });
      watcher.on('error', () => watcher.close());
      watchers.push(watcher);
    } catch {
      // No watch support (some network file systems): SIGHUP and the API still reload.
    }
  }
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
