import type { Snapshot } from './snapshot.js';

/**
 * The seam the xDS protocol layer sees: it asks for a node's desired snapshot and is told
 * whenever it changes. It knows nothing of config files, groups or drains.
 */
export interface ConfigWatcher {
  /**
   * Calls `onSnapshot` now if the node has a snapshot, and again every time it is replaced. A
   * node without one gets nothing: an empty LDS or CDS response would remove every listener or
   * cluster it has. Returns the function that stops watching.
   */
  watch(nodeId: string, onSnapshot: (snapshot: Snapshot) => void): () => void;
}

/**
 * The desired snapshot of each node, set from outside (the fleet's desired state is its one
 * writer) and read by the protocol layer. It computes nothing: a snapshot set is what the
 * node's streams send, and watchers hear of it only when it differs from the one before.
 */
export class SnapshotCache implements ConfigWatcher {
  readonly #snapshots = new Map<string, Snapshot>();
  readonly #watchers = new Map<string, Set<(snapshot: Snapshot) => void>>();

  watch(nodeId: string, onSnapshot: (snapshot: Snapshot) => void): () => void {
    let watchers = this.#watchers.get(nodeId);
    if (!watchers) this.#watchers.set(nodeId, (watchers = new Set()));
    watchers.add(onSnapshot);
    const snapshot = this.#snapshots.get(nodeId);
    if (snapshot) onSnapshot(snapshot);
    const watching = watchers;
    return () => {
      watching.delete(onSnapshot);
      if (watching.size === 0 && this.#watchers.get(nodeId) === watching) this.#watchers.delete(nodeId);
    };
  }

  /**
   * Makes `snapshot` the node's desired state. Returns false, and tells nobody, when it would
   * send the same bytes as the one it has (the node keeps the object it was sent).
   */
  setSnapshot(nodeId: string, snapshot: Snapshot): boolean {
    const current = this.#snapshots.get(nodeId);
    if (current && current.sameAs(snapshot)) return false;
    this.#snapshots.set(nodeId, snapshot);
    for (const watcher of this.#watchers.get(nodeId) ?? []) watcher(snapshot);
    return true;
  }

  /** Forgets the node's snapshot (it has no stream left); its watchers, if any, keep what they have. */
  clearSnapshot(nodeId: string): void {
    this.#snapshots.delete(nodeId);
  }

  snapshot(nodeId: string): Snapshot | undefined {
    return this.#snapshots.get(nodeId);
  }

  /** Ids of the nodes that have a snapshot. */
  nodeIds(): IterableIterator<string> {
    return this.#snapshots.keys();
  }
}
