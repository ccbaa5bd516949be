import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/**
 * Calls `onChange` after the config file changes, debounced. Watches the folder rather than
 * the file: editors and Kubernetes ConfigMap updates replace the file (rename, or a swapped
 * `..data` symlink), which a watch on the old file would miss.
 */
export function watchConfigFile(file: string, onChange: () => void, debounceMs = 250): () => void {
  const base = path.basename(file);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path.dirname(path.resolve(file)), (_event, name) => {
      if (name !== null && name !== base && name !== '..data') return;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // No watch support (some network file systems): SIGHUP and PUT /v1/config still reload.
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
