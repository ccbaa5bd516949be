/**
 * A small fleet of simulated Envoys (SimNode) whose clients behave: each node holds
 * connections on its ingress listener and, once a drain removes that listener, they finish one
 * by one, reported through the metrics service as Envoy's gauges would be. A node marked
 * `holds` keeps them (a drain on it runs until cancelled or its deadline).
 */
import { SimNode } from './sim-node.js';

/** The stat address of demoConfig's ingress listener (127.0.0.1:10000). */
export const INGRESS_STAT = '127.0.0.1_10000';
/** The stat address of demoConfig's egress listener (127.0.0.1:15001). */
export const EGRESS_STAT = '127.0.0.1_15001';

export interface FleetNodeSpec {
  readonly id: string;
  readonly cluster: string;
  readonly region?: string;
  readonly zone?: string;
  readonly holds?: boolean;
}

export interface FleetOptions {
  /** Connections each node holds while serving. */
  readonly connections?: number;
  /** One connection finishes per node every this many ms once draining. */
  readonly stepMs?: number;
}

export class DrainingFleet {
  readonly #timer: NodeJS.Timeout;
  /** Nodes whose clients keep their connections for now. */
  readonly #holding = new Set<string>();
  /** Nodes whose application keeps connections open on the egress listener (reported; none otherwise). */
  readonly #callingOut = new Set<string>();

  private constructor(
    readonly nodes: readonly { spec: FleetNodeSpec; sim: SimNode; open: number }[],
    connections: number,
    stepMs: number,
  ) {
    for (const n of nodes) if (n.spec.holds) this.#holding.add(n.spec.id);
    this.#timer = setInterval(() => {
      for (const n of this.nodes) {
        const serving = n.sim.listeners().includes('ingress_http');
        n.open = serving ? connections : this.#holding.has(n.spec.id) ? n.open : Math.max(0, n.open - 1);
        n.sim.reportConnections({ [INGRESS_STAT]: n.open, ...(this.#callingOut.has(n.spec.id) && { [EGRESS_STAT]: connections }) });
      }
    }, stepMs);
  }

  /** Connects every node and resolves once each has its full listener set. */
  static async connect(xdsAddress: string, specs: readonly FleetNodeSpec[], options: FleetOptions = {}): Promise<DrainingFleet> {
    const connections = options.connections ?? 8;
    const nodes = specs.map((spec) => ({
      spec,
      sim: SimNode.connect(xdsAddress, spec.id, {
        cluster: spec.cluster,
        locality: { ...(spec.region && { region: spec.region }), ...(spec.zone && { zone: spec.zone }) },
      }),
      open: connections,
    }));
    await Promise.all(nodes.map((n) => n.sim.waitForLds((r) => r.resources.length === 2, 'with both listeners')));
    return new DrainingFleet(nodes, connections, options.stepMs ?? 400);
  }

  /** Whether the node's clients keep their connections (true) or let them go when drained. */
  hold(id: string, holds: boolean): void {
    if (holds) this.#holding.add(id);
    else this.#holding.delete(id);
  }

  /** Whether the node's application holds egress connections (an egress drain waits for them). */
  callOut(id: string, holds: boolean): void {
    if (holds) this.#callingOut.add(id);
    else this.#callingOut.delete(id);
  }

  sim(id: string): SimNode {
    const node = this.nodes.find((n) => n.spec.id === id);
    if (!node) throw new Error(`no simulated node ${id}`);
    return node.sim;
  }

  close(): void {
    clearInterval(this.#timer);
    for (const n of this.nodes) n.sim.close();
  }
}
