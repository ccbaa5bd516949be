/**
 * Where a node's listener stands, as an operator asks it: still serving, draining under a
 * drain, or gone (removed by a drain whose work on that node is over).
 */
import type { ListenerInfo } from '../config.js';
import type { DrainType, ListenerRole } from '../roles.js';
import { NODE_FINISHED, type Drain, type DrainMethod, type NodeProgress } from './model.js';
import type { NodeOverlay } from './overlay.js';

export type ListenerState = 'serving' | 'draining' | 'gone';

export const LISTENER_STATES: readonly ListenerState[] = ['serving', 'draining', 'gone'];

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
 * The drains' node entries by node and listener, built once per read of the fleet: a
 * listener's state is then one map access, not a walk over a drain's (maybe 10,000) nodes.
 */
export class DrainIndex {
  /** `nodeId\0listener` -> entry, by drain id. */
  readonly #entries = new Map<string, Map<string, NodeProgress>>();
  /** Admin-method drains have no overlay: what they act on, by `nodeId\0listener`. */
  readonly #admin = new Map<string, Acting>();

  constructor(drains: Iterable<Drain>) {
    for (const drain of drains) {
      const byListener = new Map<string, NodeProgress>();
      const admin = drain.state !== 'cancelled' && (drain.spec.method === 'healthcheck-fail' || drain.spec.method === 'drain-listeners');
      for (const phase of drain.phases) {
        for (const n of phase.nodes) {
          for (const l of n.listeners) {
            const key = `${n.nodeId}\0${l.name}`;
            byListener.set(key, n);
            if (admin && n.state !== 'waiting') this.#admin.set(key, { drainId: drain.id, method: drain.spec.method, entry: n });
          }
        }
      }
      this.#entries.set(drain.id, byListener);
    }
  }

  /** The node's listeners with their state and the drain acting on each. */
  listeners(nodeId: string, infos: readonly ListenerInfo[], overlay: NodeOverlay): ListenerView[] {
    return infos.map((l) => {
      const key = `${nodeId}\0${l.name}`;
      const o = overlay.get(l.name);
      const acting: Acting | undefined = o
        ? { drainId: o.drainId, method: o.action, entry: this.#entries.get(o.drainId)?.get(key) }
        : this.#admin.get(key);
      return {
        name: l.name,
        role: l.role,
        drainType: l.drainType,
        state: acting ? stateUnder(acting) : 'serving',
        drain: acting ? { id: acting.drainId, action: acting.method } : null,
      };
    });
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
