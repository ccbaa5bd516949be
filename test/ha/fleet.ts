/**
 * A fleet for the high-availability tests: replicas sharing one etcd (a key prefix per test),
 * simulated Envoys spread over them, and the waits those tests need.
 */
import assert from 'node:assert/strict';
import type { Drain } from '../../src/fleet/drain/model.js';
import { demoConfig } from '../support/fleet-configs.js';
import { Replica } from '../support/replicas.js';
import { SimNode } from '../support/sim-node.js';
import { waitUntil } from '../support/wait.js';

export const INGRESS_STAT = '127.0.0.1_10000';
export const LEASE_SECONDS = 2;
export const CONFIG = demoConfig();

/** Starts replicas one after the other: the first one started leads. */
export async function startReplicas(count: number, prefix: string, etcdFor: (index: number) => string): Promise<Replica[]> {
  const replicas: Replica[] = [];
  for (let i = 0; i < count; i++) {
    replicas.push(await Replica.start({ id: `r${i}`, configYaml: CONFIG, etcd: etcdFor(i), prefix, leaseSeconds: LEASE_SECONDS }));
    if (i === 0) await waitUntil('r0 to lead', async () => (await replicas[0]!.store())?.leading === true, 30_000);
  }
  return replicas;
}

/**
 * A simulated Envoy that may move between replicas: every LDS response it ever got, over all
 * its connections, in order.
 */
export class MovingNode {
  readonly #connections: SimNode[] = [];
  #reporting: NodeJS.Timeout | undefined;

  constructor(readonly id: string) {}

  get node(): SimNode {
    return this.#connections.at(-1)!;
  }

  /**
   * Connects (again) to a replica, saying which listener version it has, as Envoy does. A
   * replica that would send the same version sends nothing: every replica computes the same
   * version from the same config and drains.
   */
  async connect(replica: Replica, metricsTo: Replica = replica): Promise<void> {
    const last = this.#connections.flatMap((c) => c.lds).at(-1)?.version_info;
    this.#connections.at(-1)?.close();
    const n = SimNode.connect(replica.xdsAddress, this.id, {
      metricsAddress: metricsTo.xdsAddress,
      ...(last !== undefined && { versionInfo: last }),
    });
    this.#connections.push(n);
    if (last === undefined) await n.waitForLds(() => true, 'at all', 20_000);
    else {
      await waitUntil(
        `${this.id} to be connected to ${replica.id}`,
        async () => {
          const status = await replica.api('GET', `/v1/nodes/${this.id}`);
          return status.body.connected === true && status.body.replica === replica.id;
        },
        30_000,
      );
    }
  }

  /** Listener names of each LDS response, over every connection. */
  history(): string[][] {
    return this.#connections.flatMap((c) => c.lds.map((r) => r.resources.map((x) => x.name).sort()));
  }

  /** Listener names of the latest LDS response. */
  listeners(): string[] {
    return this.history().at(-1) ?? [];
  }

  /**
   * From now on, while its ingress listener is gone, reports that it has no connections left
   * (every 300 ms, as Envoy's stats sink does at its flush interval).
   */
  reportWhenDrained(): void {
    clearInterval(this.#reporting);
    this.#reporting = setInterval(() => {
      if (!this.listeners().includes('ingress_http')) this.node.reportConnections({ [INGRESS_STAT]: 0 });
    }, 300);
  }

  /** True when a listener, once removed, came back in a later response. */
  cameBack(listener: string): boolean {
    let removed = false;
    for (const names of this.history()) {
      if (!names.includes(listener)) removed = true;
      else if (removed) return true;
    }
    return false;
  }

  close(): void {
    clearInterval(this.#reporting);
    for (const c of this.#connections) c.close();
  }
}

export async function drainOn(replica: Replica, id: string): Promise<Drain | undefined> {
  const res = await replica.api('GET', `/v1/drains/${id}`);
  return res.status === 200 ? (res.body as Drain) : undefined;
}

/** POST /v1/drains, which must answer 201. */
export async function startDrain(on: Replica, body: unknown): Promise<Drain> {
  const res = await on.api('POST', '/v1/drains', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as Drain;
}

/** Waits until the replica shows the drain completed; on timeout, says where its nodes stand. */
export function untilCompleted(on: Replica, id: string, what: string, timeoutMs: number): Promise<void> {
  return waitUntil(what, async () => (await drainOn(on, id))?.state === 'completed', timeoutMs, {
    explain: async () => {
      const drain = await drainOn(on, id);
      return `; ${on.id} has it ${drain?.state}: ${JSON.stringify(drain?.phases.map((p) => p.nodes))}`;
    },
  });
}

/** A check: the replica lists `count` connected nodes (its own and other replicas'). */
export function seesNodes(r: Replica, count: number): () => Promise<boolean> {
  return async () => (await r.api('GET', '/v1/nodes')).body.nodes.filter((n: { connected: boolean }) => n.connected).length === count;
}

export function nodeStates(drain: Drain): Record<string, string> {
  return Object.fromEntries(drain.phases.flatMap((p) => p.nodes.map((n) => [n.nodeId, n.state])));
}

/** Nodes per batch number: a batch started twice (two leaders) would show too many. */
export function batchSizes(drain: Drain): Map<number, number> {
  const sizes = new Map<number, number>();
  for (const n of drain.phases.flatMap((p) => p.nodes)) if (n.batch !== null) sizes.set(n.batch, (sizes.get(n.batch) ?? 0) + 1);
  return sizes;
}

/** Which replica leads now, asking every live one. */
export async function leaderOf(replicas: readonly Replica[]): Promise<Replica | undefined> {
  for (const r of replicas) if (r.alive && (await r.store())?.leading) return r;
  return undefined;
}
