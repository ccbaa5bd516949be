import type { NodeIdentity } from './node.js';
import type { Snapshot } from './snapshot.js';

/**
 * The seam the xDS protocol layer sees: it asks for a node's desired snapshot and is told
 * whenever it changes. It knows nothing of config files, groups or drains.
 */
export interface ConfigWatcher {
  /**
   * Calls `onSnapshot` now if the node's desired state is known, and again every time it
   * changes. A node whose desired state is unknown gets nothing: an empty LDS or CDS response
   * would remove every listener or cluster it has. Returns the function that stops watching.
   */
  watch(node: NodeIdentity, onSnapshot: (snapshot: Snapshot) => void): () => void;
}

/** Computes a node's desired snapshot from its identity; undefined when it is not known. */
export type SnapshotResolver = (node: NodeIdentity) => Snapshot | undefined;

interface WatchedNode {
  identity: NodeIdentity;
  snapshot: Snapshot | undefined;
  readonly watchers: Set<(snapshot: Snapshot) => void>;
}

/**
 * Desired snapshots of the nodes that are connected now, keyed by node id. The resolver (the
 * fleet domain) decides what each node should have; `refresh` recomputes after the config or
 * a drain changes, and only nodes whose snapshot versions changed are notified.
 */
export class SnapshotCache implements ConfigWatcher {
  readonly #nodes = new Map<string, WatchedNode>();

  constructor(private resolver: SnapshotResolver) {}

  watch(node: NodeIdentity, onSnapshot: (snapshot: Snapshot) => void): () => void {
    let entry = this.#nodes.get(node.id);
    if (!entry) {
      entry = { identity: node, snapshot: undefined, watchers: new Set() };
      this.#nodes.set(node.id, entry);
      entry.snapshot = this.resolver(node);
    } else if (entry.identity !== node) {
      // A newer stream of the same node may describe it differently (a new cluster, say).
      entry.identity = node;
      this.#update(entry);
    }
    entry.watchers.add(onSnapshot);
    if (entry.snapshot) onSnapshot(entry.snapshot);
    const watched = entry;
    return () => {
      watched.watchers.delete(onSnapshot);
      if (watched.watchers.size === 0 && this.#nodes.get(node.id) === watched) this.#nodes.delete(node.id);
    };
  }

  /** Replaces the resolver (a new config) and recomputes every watched node. */
  setResolver(resolver: SnapshotResolver): void {
    this.resolver = resolver;
    this.refresh();
  }

  /** Recomputes the given nodes (default: all watched nodes); notifies those that changed. */
  refresh(nodeIds?: Iterable<string>): void {
    const ids = nodeIds ?? [...this.#nodes.keys()];
    for (const id of ids) {
      const entry = this.#nodes.get(id);
      if (entry) this.#update(entry);
    }
  }

  /** The current desired snapshot of a watched node. */
  snapshot(nodeId: string): Snapshot | undefined {
    return this.#nodes.get(nodeId)?.snapshot;
  }

  /** Identities of the nodes being watched now. */
  nodes(): NodeIdentity[] {
    return [...this.#nodes.values()].map((n) => n.identity);
  }

  #update(entry: WatchedNode): void {
    const next = this.resolver(entry.identity);
    if (!next || (entry.snapshot && entry.snapshot.sameAs(next))) {
      // Unknown now: keep what the node has rather than push an empty state.
      return;
    }
    entry.snapshot = next;
    for (const watcher of entry.watchers) watcher(next);
  }
}
