/**
 * Where a node's listener stands, as an operator asks it: still serving, draining under a
 * drain, or gone (removed by a drain whose work on that node is over).
 */
import type { ListenerInfo } from '../config.js';
import type { DrainType, ListenerRole } from '../roles.js';
import { actsOnListeners, NODE_FINISHED, notStarted, type Drain, type DrainMethod, type ListenerState, type NodeProgress } from './model.js';
import type { NodeOverlay } from './overlay.js';

/** A listener of a node: its role, its state, and the drain acting on it, if any. */
export interface ListenerView {
  readonly name: string;
  readonly role: ListenerRole;
  readonly drainType: DrainType;
  readonly state: ListenerState;
  readonly drain: { readonly id: string; readonly action: DrainMethod } | null;
}

interface Acting {
  readonly drainId: string;
  readonly method: DrainMethod;
  /** The node's entry in the drain that names this listener. */
  readonly entry: NodeProgress | undefined;
}

/**
 * The drains' node entries by node and listener, built once per read of the fleet and only for
 * the drains asked about: a listener's state is then one map access, not a walk over a drain's
 * (maybe 10,000) nodes, and a page of 50 nodes does not index every drain.
 */
export class DrainIndex {
  readonly #drains: ReadonlyMap<string, Drain>;
  /** By drain id: `nodeId\0listener` -> that node's entry. */
  readonly #entries = new Map<string, Map<string, NodeProgress>>();
  /** Admin-method drains have no overlay: what they act on, by `nodeId\0listener`. */
  #admin: Map<string, Acting> | undefined;

  constructor(drains: Iterable<Drain>) {
    this.#drains = new Map([...drains].map((d) => [d.id, d]));
  }

  /** The node's listeners with their state and the drain acting on each. */
  listeners(nodeId: string, infos: readonly ListenerInfo[], overlay: NodeOverlay): ListenerView[] {
    return infos.map((l) => {
      const key = `${nodeId}\0${l.name}`;
      const o = overlay.get(l.name);
      const acting: Acting | undefined = o
        ? { drainId: o.drainId, method: o.action, entry: this.#entriesOf(o.drainId).get(key) }
        : this.#adminActing().get(key);
      return {
        name: l.name,
        role: l.role,
        drainType: l.drainType,
        state: acting ? stateUnder(acting) : 'serving',
        drain: acting ? { id: acting.drainId, action: acting.method } : null,
      };
    });
  }

  #entriesOf(drainId: string): Map<string, NodeProgress> {
    let entries = this.#entries.get(drainId);
    if (!entries) {
      entries = new Map();
      for (const phase of this.#drains.get(drainId)?.phases ?? []) {
        for (const n of phase.nodes) for (const l of n.listeners) entries.set(`${n.nodeId}\0${l.name}`, n);
      }
      this.#entries.set(drainId, entries);
    }
    return entries;
  }

  #adminActing(): Map<string, Acting> {
    if (!this.#admin) {
      this.#admin = new Map();
      for (const drain of this.#drains.values()) {
        const method = drain.spec.method;
        if (!actsOnListeners(drain) || (method !== 'healthcheck-fail' && method !== 'drain-listeners')) continue;
        for (const [key, entry] of this.#entriesOf(drain.id)) {
          if (!notStarted(entry)) this.#admin.set(key, { drainId: drain.id, method, entry });
        }
      }
    }
    return this.#admin;
  }
}

/**
 * A listener drains while the node's entry for it is pushed or ACKed. After that, a removed
 * listener (or one Envoy drained through /drain_listeners) is gone; a modified one serves again
 * (the new listener accepts), and so does one behind a failed health check.
 */
function stateUnder(acting: Acting): ListenerState {
  if (acting.entry && !NODE_FINISHED.has(acting.entry.state)) return 'draining';
  return acting.method === 'remove' || acting.method === 'drain-listeners' ? 'gone' : 'serving';
}
