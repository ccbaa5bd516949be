import type { Logger } from 'pino';
import type { NodeIdentity } from '../cache/node.js';
import type { ConnectionGauges } from '../metrics/connection-gauges.js';
import type { FleetAdmin } from './fleet-admin.js';

export interface GaugePollerDeps {
  readonly admin: FleetAdmin;
  readonly gauges: ConnectionGauges;
  /** The nodes being drained now, whose connections matter. */
  readonly nodes: () => NodeIdentity[];
  readonly logger: Logger;
  readonly intervalMs?: number;
}

/**
 * While nodes drain, reads their connection gauges from their admin /stats (about once a second)
 * for the nodes whose admin address is known: the metrics service sink only reports at Envoy's
 * stats flush interval. One poll per node at a time; a failing admin is logged once.
 */
export class GaugePoller {
  readonly #inFlight = new Set<string>();
  readonly #failing = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: GaugePollerDeps) {}

  start(): void {
    this.#timer ??= setInterval(() => this.pollOnce(), this.deps.intervalMs ?? 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  pollOnce(): void {
    for (const node of this.deps.nodes()) {
      if (this.#inFlight.has(node.id) || this.deps.admin.unavailable(node) !== undefined) continue;
      this.#inFlight.add(node.id);
      this.deps.admin
        .poll(node, this.deps.gauges)
        .then(() => this.#failing.delete(node.id))
        .catch((err: unknown) => {
          if (this.#failing.has(node.id)) return;
          this.#failing.add(node.id);
          this.deps.logger.warn({ event: 'admin_poll_failed', node: node.id, error: (err as Error).message }, 'admin /stats poll failed');
        })
        .finally(() => this.#inFlight.delete(node.id));
    }
  }
}
