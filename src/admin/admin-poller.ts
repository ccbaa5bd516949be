import type { Logger } from 'pino';
import type { NodeIdentity } from '../cache/node.js';
import type { FleetAdmin } from './fleet-admin.js';

export interface AdminPollerDeps {
  readonly admin: Pick<FleetAdmin, 'unavailable'>;
  /** What is read (e.g. "/stats"), for the log line of a failing poll. */
  readonly what: string;
  /** Reads one node's admin API and records what it says. */
  readonly poll: (node: NodeIdentity) => Promise<void>;
  /** The nodes being drained now, whose counts matter. */
  readonly nodes: () => NodeIdentity[];
  readonly logger: Logger;
  readonly intervalMs?: number;
}

/**
 * While nodes drain, reads their admin API (about once a second) for the nodes whose admin
 * address is known: their connection gauges from /stats (the metrics service sink only reports
 * at Envoy's stats flush interval), or for endpoint drains their host counts from /clusters
 * (which the metrics service sink does not carry). One poll per node at a time; a failing admin
 * is logged once.
 */
export class AdminPoller {
  readonly #inFlight = new Set<string>();
  readonly #failing = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: AdminPollerDeps) {}

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
      this.deps
        .poll(node)
        .then(() => this.#failing.delete(node.id))
        .catch((err: unknown) => {
          if (this.#failing.has(node.id)) return;
          this.#failing.add(node.id);
          this.deps.logger.warn(
            { event: 'admin_poll_failed', node: node.id, read: this.deps.what, error: (err as Error).message },
            `admin ${this.deps.what} poll failed`,
          );
        })
        .finally(() => this.#inFlight.delete(node.id));
    }
  }
}
