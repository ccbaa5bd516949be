import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { isXdsTypeUrl, TYPE_SHORT_NAME } from '../resource/type-urls.js';
import type { XdsEvents } from '../xds/events.js';
import type { NackLedger } from '../xds/nack-ledger.js';

export interface Metrics {
  readonly registry: Registry;
  readonly xdsEvents: Partial<XdsEvents>;
  readonly configReloads: Counter<'result'>;
}

function type(typeUrl: string): string {
  return isXdsTypeUrl(typeUrl) ? TYPE_SHORT_NAME[typeUrl] : 'other';
}

/** Prometheus metrics, on a registry of their own (no global state). */
export function createMetrics(ledger: NackLedger): Metrics {
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
  const configReloads = new Counter({
    name: 'drainplane_config_reloads_total',
    help: 'Config reloads, by result (applied, unchanged, rejected).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const service = (aggregated: boolean): string => (aggregated ? 'ads' : 'per-type');
  return {
    registry,
    configReloads,
    xdsEvents: {
      streamOpened: (s) => streams.inc({ protocol: s.protocol, service: service(s.aggregated) }),
      streamClosed: (s) => streams.dec({ protocol: s.protocol, service: service(s.aggregated) }),
      responseSent: (_s, typeUrl) => responses.inc({ type: type(typeUrl) }),
      acked: (_s, typeUrl) => acks.inc({ type: type(typeUrl) }),
      nacked: (_s, nack) => nacks.inc({ type: type(nack.typeUrl) }),
    },
  };
}
