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

/** The counter's child for a type, created on first use and then reused. */
function byType(counter: Counter<'type'>): (typeUrl: string) => { inc(): void } {
  const children = new Map<string, { inc(): void }>();
  return (typeUrl) => {
    const name = type(typeUrl);
    let child = children.get(name);
    if (!child) children.set(name, (child = counter.labels({ type: name })));
    return child;
  };
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
  const streams = new Gauge({
    name: 'drainplane_xds_streams',
    help: 'Open discovery streams, by protocol (sotw, delta) and service (ads, per-type).',
    labelNames: ['protocol', 'service'] as const,
    registers: [registry],
  });
  const responses = new Counter({
    name: 'drainplane_xds_responses_total',
    help: 'Discovery responses sent, by type (lds, cds, rds, eds).',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const acks = new Counter({
    name: 'drainplane_xds_acks_total',
    help: 'Responses ACKed by nodes, by type.',
    labelNames: ['type'] as const,
    registers: [registry],
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
  // Children bound once per type: these counters move on every response of every node.
  const responsesOf = byType(responses);
  const acksOf = byType(acks);
  return {
    registry,
    configReloads,
    kubeWatchRestarts,
    xdsEvents: {
      streamOpened: (s) => streams.inc({ protocol: s.protocol, service: service(s.aggregated) }),
      streamClosed: (s) => streams.dec({ protocol: s.protocol, service: service(s.aggregated) }),
      responseSent: (_s, typeUrl) => responsesOf(typeUrl).inc(),
      acked: (_s, typeUrl) => acksOf(typeUrl).inc(),
      nacked: (_s, nack) => nacks.inc({ type: type(nack.typeUrl) }),
      sendQueueFull: () => sendQueueOverflows.inc(),
      sendBudgetExceeded: (reset) => sendQueueOverflows.inc(reset.length),
    },
  };
}
