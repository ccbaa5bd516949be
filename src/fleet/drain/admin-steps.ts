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
import { NODE_FINISHED, type Drain, type DrainMethod } from './model.js';
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
  /** The drain's current object: a stored version may have taken the place of the one called for. */
  readonly current: (drainId: string) => Drain | undefined;
  readonly logger: Logger;
  readonly now: () => number;
}

export class AdminSteps {
  /** Calls that succeeded, by drain/phase/node. */
  readonly #done = new Set<string>();
  /** Calls this process made (or is making), by drain/phase/node. */
  readonly #attempted = new Set<string>();

  constructor(private readonly deps: AdminStepsDeps) {}

  /** Whether the node's call for this phase of the drain succeeded. */
  done(drainId: string, phaseIndex: number, nodeId: string): boolean {
    return this.#done.has(`${drainId}/${phaseIndex}/${nodeId}`);
  }

  /** Drops what is kept of these drains' calls (they are forgotten). */
  forget(drainIds: ReadonlySet<string>): void {
    for (const set of [this.#done, this.#attempted]) {
      for (const key of set) if (drainIds.has(key.slice(0, key.indexOf('/')))) set.delete(key);
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
   * Calls `action` on each node. A node whose drain call failed fails its part of the drain; a
   * failed `healthcheckOk` (undoing a cancelled drain) only leaves a warning on the drain.
   */
  async run(drain: Drain, ids: readonly string[], action: AdminAction): Promise<void> {
    const admin = this.deps.admin;
    await Promise.all(
      ids.map(async (id) => {
        const node = this.deps.nodes.get(id)?.identity;
        const phases = drain.phases.flatMap((p, i) => (p.nodes.some((n) => n.nodeId === id) ? [i] : []));
        if (action !== 'healthcheckOk') for (const i of phases) this.#attempted.add(`${drain.id}/${i}/${id}`);
        try {
          if (!admin || !node) throw new Error(admin ? `node ${id} is not known` : 'no Envoy admin client is configured');
          await admin[action](node);
          if (action !== 'healthcheckOk') for (const i of phases) this.#done.add(`${drain.id}/${i}/${id}`);
        } catch (err) {
          const message = `${action} failed: ${(err as Error).message}`;
          this.deps.logger.warn({ event: 'drain_admin_failed', drain: drain.id, node: id, error: message }, message);
          const latest = this.deps.current(drain.id) ?? drain;
          if (action === 'healthcheckOk') {
            latest.warnings.push(`node ${id}: ${message}`);
            return;
          }
          for (const n of latest.phases.flatMap((p) => p.nodes.filter((x) => x.nodeId === id))) {
            if (NODE_FINISHED.has(n.state)) continue;
            n.state = 'failed';
            n.error = message;
            n.finishedAt = new Date(this.deps.now()).toISOString();
          }
        }
      }),
    );
  }
}
