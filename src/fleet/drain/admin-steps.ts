/**
 * The admin drain methods (`healthcheck-fail`, `drain-listeners`) carried out on nodes through
 * Envoy's admin API. There is no ACK for these: a call that succeeded stands in for one.
 *
 * What was called lives in this process only. A process that starts leading (after a restart,
 * or when the previous leader died) repeats the calls it did not make itself for nodes still
 * waiting on one: the previous process may have died before or during the call. Both calls are
 * safe to repeat: /healthcheck/fail sets a flag, and a repeated graceful /drain_listeners answers
 * 200 without starting a second drain (Envoy's admin listeners handler, `duplicate_drain`).
 */
import type { Logger } from 'pino';
import type { Drain, DrainMethod } from './model.js';
import type { AdminDrainActions, NodeDirectory } from './ports.js';

export type AdminAction = 'healthcheckFail' | 'healthcheckOk' | 'drainListeners';

/** The call that drains a node, for a drain by an admin method. */
export function drainingCall(method: Exclude<DrainMethod, 'remove' | 'modify'>): AdminAction {
  return method === 'healthcheck-fail' ? 'healthcheckFail' : 'drainListeners';
}

export interface AdminStepsDeps {
  readonly admin: AdminDrainActions | undefined;
  /** Where nodes are looked up (the whole fleet: the leader calls nodes on any replica). */
  readonly nodes: NodeDirectory;
  readonly logger: Logger;
}

export class AdminSteps {
  /** Calls that succeeded, by drain/phase/node. */
  readonly #done = new Set<string>();
  /** Calls this process made (or is making), by drain/phase/node. */
  readonly #attempted = new Set<string>();
  /** Calls that failed, by drain/phase/node: why. */
  readonly #failed = new Map<string, string>();

  constructor(private readonly deps: AdminStepsDeps) {}

  /** Whether the node's call for this phase of the drain succeeded. */
  done(drainId: string, phaseIndex: number, nodeId: string): boolean {
    return this.#done.has(`${drainId}/${phaseIndex}/${nodeId}`);
  }

  /**
   * Why the node's call for this phase of the drain failed, if it did. The node's entry fails on
   * the next progress step, which stores it: a failure is never written into a drain in memory
   * alone.
   */
  failure(drainId: string, phaseIndex: number, nodeId: string): string | undefined {
    return this.#failed.get(`${drainId}/${phaseIndex}/${nodeId}`);
  }

  /** Drops what is kept of these drains' calls (they are forgotten). */
  forget(drainIds: ReadonlySet<string>): void {
    for (const keys of [this.#done, this.#attempted, this.#failed]) {
      for (const key of keys.keys()) if (drainIds.has(key.slice(0, key.indexOf('/')))) keys.delete(key);
    }
  }

  /**
   * Nodes of the drain's running phases that wait on an admin call this process never made,
   * among those it can reach now (`known`): the calls to repeat.
   */
  unattempted(drain: Drain, known: (nodeId: string) => boolean): string[] {
    const ids = new Set<string>();
    drain.phases.forEach((phase, i) => {
      if (phase.state !== 'running') return;
      for (const n of phase.nodes) {
        if (n.state === 'pushed' && !this.#attempted.has(`${drain.id}/${i}/${n.nodeId}`) && known(n.nodeId)) ids.add(n.nodeId);
      }
    });
    return [...ids];
  }

  /**
   * Calls `action` on each node; returns what failed, one line per node. A node whose drain call
   * failed fails its part of the drain at the next progress step (see `failure`); a failed
   * `healthcheckOk` (undoing a cancelled drain) is for the caller to note on the drain.
   */
  async run(drain: Drain, ids: readonly string[], action: AdminAction): Promise<string[]> {
    const admin = this.deps.admin;
    const failures: string[] = [];
    await Promise.all(
      ids.map(async (id) => {
        const node = this.deps.nodes.get(id)?.identity;
        const keys = drain.phases.flatMap((p, i) => (p.nodes.some((n) => n.nodeId === id) ? [`${drain.id}/${i}/${id}`] : []));
        // A call that drains (not the undoing healthcheckOk) is kept track of, by phase.
        const draining = action !== 'healthcheckOk';
        if (draining) {
          for (const key of keys) {
            this.#attempted.add(key);
            // Called again (a retry): the last failure no longer stands.
            this.#failed.delete(key);
          }
        }
        try {
          if (!admin || !node) throw new Error(admin ? `node ${id} is not known` : 'no Envoy admin client is configured');
          await admin[action](node);
          if (draining) for (const key of keys) this.#done.add(key);
        } catch (err) {
          const message = `${action} failed: ${(err as Error).message}`;
          this.deps.logger.warn({ event: 'drain_admin_failed', drain: drain.id, node: id, error: message }, message);
          failures.push(`node ${id}: ${message}`);
          if (draining) for (const key of keys) this.#failed.set(key, message);
        }
      }),
    );
    return failures;
  }
}
