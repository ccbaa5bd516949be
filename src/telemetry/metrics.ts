import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { isXdsTypeUrl, TYPE_SHORT_NAME } from '../resource/type-urls.js';
import type { XdsEvents } from '../xds/events.js';
import type { DrainManager } from '../fleet/drain/manager.js';
import type { NackLedger } from '../xds/nack-ledger.js';

export interface Metrics {
  readonly registry: Registry;
  readonly xdsEvents: Partial<XdsEvents>;
  readonly configReloads: Counter<'result'>;
  readonly kubeWatchRestarts: Counter;
}

function type(typeUrl: string): string {
  return isXdsTypeUrl(typeUrl) ? TYPE_SHORT_NAME[typeUrl] : 'other';
}

/**
 * Counts by type kept as plain numbers and handed to the counter when it is scraped: these move
 * on every response and ACK of every node, and prom-client hashes the labels on each `inc`.
 */
class TypeTally {
  readonly #counts = new Map<string, number>();

  add(typeUrl: string): void {
    const name = type(typeUrl);
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
  }

  /** Moves the counts gathered since the last scrape into the counter. */
  flushInto(counter: Counter<'type'>): void {
    for (const [name, n] of this.#counts) if (n > 0) counter.inc({ type: name }, n);
    this.#counts.clear();
  }
}

/** Prometheus metrics, on a registry of their own (no global state). */
export interface MetricsSources {
  /** Rejections by node and type. */
  readonly ledger: NackLedger;
  readonly drains: Pick<DrainManager, 'list'>;
}

export function createMetrics({ ledger, drains }: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'drainplane_' });
  // Open streams by protocol and service, set on the gauge when it is scraped (a storm opens thousands).
  const open = new Map<string, { protocol: string; service: string; count: number }>();
  const opened = (protocol: string, service: string, by: number): void => {
    const key = `${protocol}/${service}`;
    const entry = open.get(key) ?? { protocol, service, count: 0 };
    entry.count += by;
    open.set(key, entry);
  };
  new Gauge({
    name: 'drainplane_xds_streams',
    help: 'Open discovery streams, by protocol (sotw, delta) and service (ads, per-type).',
    labelNames: ['protocol', 'service'] as const,
    registers: [registry],
    collect() {
      for (const { protocol, service, count } of open.values()) this.set({ protocol, service }, count);
    },
  });
  const responses = new TypeTally();
  new Counter({
    name: 'drainplane_xds_responses_total',
    help: 'Discovery responses sent, by type (lds, cds, rds, eds).',
    labelNames: ['type'] as const,
    registers: [registry],
    collect() {
      responses.flushInto(this);
    },
  });
  const acks = new TypeTally();
  new Counter({
    name: 'drainplane_xds_acks_total',
    help: 'Responses ACKed by nodes, by type.',
    labelNames: ['type'] as const,
    registers: [registry],
    collect() {
      acks.flushInto(this);
    },
  });
  const nacks = new Counter({
    name: 'drainplane_xds_nacks_total',
    help: 'Responses rejected (NACKed) by nodes, by type.',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'drainplane_xds_parked',
    help: 'Node and type pairs parked after a NACK: nothing is resent until their config changes.',
    registers: [registry],
    collect() {
      this.set(ledger.size);
    },
  });
  new Gauge({
    name: 'drainplane_drains',
    help: 'Drains known, by state (running, completed, timed_out, failed, cancelled).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const d of drains.list()) this.inc({ state: d.state });
    },
  });
  new Gauge({
    name: 'drainplane_draining_connections',
    help: 'Active connections last measured on listeners of running drains, by drain; absent while none is measured (modify drains: never).',
    labelNames: ['drain'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const d of drains.list()) {
        if (d.state !== 'running') continue;
        let sum = 0;
        let measured = false;
        for (const p of d.phases) {
          for (const n of p.nodes) {
            for (const l of n.listeners) {
              if (l.connections === null) continue;
              sum += l.connections;
              measured = true;
            }
          }
        }
        // Unknown is no sample, not 0: a dashboard must not read "drained" into it.
        if (measured) this.set({ drain: d.id }, sum);
      }
    },
  });
  const sendQueueOverflows = new Counter({
    name: 'drainplane_xds_send_queue_overflows_total',
    help: 'Discovery streams reset because their node left more response bytes unread than the bound, per stream or server-wide.',
    registers: [registry],
  });
  const configReloads = new Counter({
    name: 'drainplane_config_reloads_total',
    help: 'Config reloads, by result (applied, unchanged, rejected).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const kubeWatchRestarts = new Counter({
    name: 'drainplane_kube_watch_restarts_total',
    help: 'Watches of Kubernetes EndpointSlices that failed and were started again.',
    registers: [registry],
  });
  const service = (aggregated: boolean): string => (aggregated ? 'ads' : 'per-type');
  return {
    registry,
    configReloads,
    kubeWatchRestarts,
    xdsEvents: {
      streamOpened: (s) => opened(s.protocol, service(s.aggregated), 1),
      streamClosed: (s) => opened(s.protocol, service(s.aggregated), -1),
      responseSent: (_s, typeUrl) => responses.add(typeUrl),
      acked: (_s, typeUrl) => acks.add(typeUrl),
      nacked: (_s, nack) => nacks.inc({ type: type(nack.typeUrl) }),
      sendQueueFull: () => sendQueueOverflows.inc(),
      sendBudgetExceeded: (reset) => sendQueueOverflows.inc(reset.length),
    },
  };
}
