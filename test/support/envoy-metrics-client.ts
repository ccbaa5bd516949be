/**
 * Plays Envoy's metrics_service stats sink against a server under test: one client-streaming
 * StreamMetrics call, the node on the first message only, one MetricFamily of one metric per
 * stat, named and labelled the way Envoy's MetricsFlusher does it (grpc_metrics_service_impl.cc),
 * with or without `emit_tags_as_labels`.
 *
 * Messages are built and encoded here with protobufjs from the project's proto registry, a plain
 * copy of Envoy's API; nothing is shared with the server's decoder.
 */
import * as grpc from '@grpc/grpc-js';
import { envoyProtos } from '../../src/resource/protos.js';

const PATH = '/envoy.service.metrics.v3.MetricsService/StreamMetrics';

/**
 * Gauges to report: connections by listener stat scope and by HCM stat_prefix, and the listener
 * manager's warming and draining counts (draining left out, as Envoy does before any drain).
 */
export interface ConnectionGaugeInput {
  listeners?: Record<string, number>;
  http?: Record<string, number>;
  listenerManager?: { warming: number; draining?: number };
}

export interface SendOptions {
  /** Envoy's `emit_tags_as_labels`. */
  tagsAsLabels: boolean;
  /** Names this node in the message's identifier even though it is not the first (Envoy never does). */
  identifyAs?: string;
  /** Adds this many unrelated gauges, to push a message past the server's family limit. */
  filler?: number;
}

export interface StreamStatus {
  code: grpc.status;
  details: string;
}

export interface EnvoyMetricsStream {
  /**
   * Sends one flush: the given gauges, plus what a real flush also holds and the server must
   * ignore: admin and per-worker connection gauges, a counter under a connection gauge's name,
   * and other gauges.
   */
  send(gauges: ConnectionGaugeInput, options: SendOptions): void;
  /** Half-closes the stream, as Envoy does when it stops; resolves with the call's status. */
  close(): Promise<StreamStatus>;
  /** Resolves with the call's status, however it ends. */
  readonly closed: Promise<StreamStatus>;
}

interface Label {
  name: string;
  value: string;
}
interface Family {
  name: string;
  type: 'COUNTER' | 'GAUGE';
  metric: { label: Label[]; timestamp_ms: number; gauge?: { value: number }; counter?: { value: number } }[];
}

const protos = envoyProtos();
const StreamMetricsMessage = protos.type('envoy.service.metrics.v3.StreamMetricsMessage');

/** Envoy's tag extractor takes only these from `listener.<X>.` names (well_known_names.cc). */
const EXTRACTED_ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}_\d+|\[[_0-9a-fA-F]+\]_\d+)$/;

/** Opens the stream (plaintext unless `credentials` says otherwise). nodeId null sends no identifier at all. */
export function openEnvoyMetricsStream(
  address: string,
  nodeId: string | null,
  credentials = grpc.credentials.createInsecure(),
  channelOptions: grpc.ChannelOptions = {},
): EnvoyMetricsStream {
  const client = new grpc.Client(address, credentials, channelOptions);
  const call = client.makeClientStreamRequest<Record<string, unknown>, Buffer>(
    PATH,
    (message) => Buffer.from(StreamMetricsMessage.encode(StreamMetricsMessage.fromObject(message)).finish()),
    (bytes) => bytes,
    () => {}, // the outcome is read from the 'status' event
  );
  const closed = new Promise<StreamStatus>((resolve) =>
    call.on('status', (status: grpc.StatusObject) => {
      client.close();
      resolve({ code: status.code, details: status.details });
    }),
  );
  call.on('error', () => {}); // reported through 'status'
  let first = true;
  return {
    send(gauges, options) {
      const identity = first ? nodeId : (options.identifyAs ?? null);
      first = false;
      call.write({
        ...(identity !== null && { identifier: { node: { id: identity, cluster: 'test-cluster' } } }),
        envoy_metrics: flush(gauges, options),
      });
    },
    close() {
      if (!call.writableEnded) call.end();
      return closed;
    },
    closed,
  };
}

function flush(gauges: ConnectionGaugeInput, options: SendOptions): Family[] {
  const stat = options.tagsAsLabels ? taggedStat : fullStat;
  const families: Family[] = [];
  for (const [scope, value] of Object.entries(gauges.listeners ?? {})) {
    families.push(
      stat('GAUGE', { listener: scope }, 'downstream_cx_active', value),
      stat('GAUGE', { listener: scope, worker: '0' }, 'downstream_cx_active', value + 100),
      stat('GAUGE', { listener: scope }, 'downstream_pre_cx_active', 7),
      stat('COUNTER', { listener: scope }, 'downstream_cx_active', 999),
      stat('COUNTER', { listener: scope }, 'downstream_cx_total', 1000),
    );
  }
  for (const [prefix, value] of Object.entries(gauges.http ?? {})) {
    families.push(stat('GAUGE', { http: prefix }, 'downstream_cx_active', value), stat('GAUGE', { http: prefix }, 'downstream_rq_active', 5));
  }
  const manager = gauges.listenerManager;
  if (manager) {
    families.push(stat('GAUGE', {}, 'listener_manager.total_listeners_warming', manager.warming));
    if (manager.draining !== undefined) families.push(stat('GAUGE', {}, 'listener_manager.total_listeners_draining', manager.draining));
  }
  families.push(
    stat('GAUGE', {}, 'listener_manager.total_listeners_active', 2),
    stat('GAUGE', { listener: 'admin' }, 'downstream_cx_active', 11),
    stat('GAUGE', { listener: 'admin', worker: 'main_thread' }, 'downstream_cx_active', 11),
    stat('GAUGE', { http: 'admin' }, 'downstream_cx_active', 11),
    stat('GAUGE', {}, 'server.total_connections', 12),
    stat('GAUGE', {}, 'cluster.drainplane.upstream_cx_active', 1),
  );
  for (let i = 0; i < (options.filler ?? 0); i++) families.push(stat('GAUGE', {}, `filler.gauge_${i}`, i));
  return families;
}

interface StatScope {
  listener?: string;
  /** worker_<n>, or main_thread when given as such. */
  worker?: string;
  http?: string;
}

/** The name Envoy's stat store gives the stat. */
function statName(scope: StatScope, leaf: string): string {
  const handler = scope.worker === undefined ? '' : `${handlerName(scope.worker)}.`;
  if (scope.listener !== undefined) return `listener.${scope.listener}.${handler}${leaf}`;
  if (scope.http !== undefined) return `http.${scope.http}.${leaf}`;
  return leaf;
}

function handlerName(worker: string): string {
  return worker === 'main_thread' ? worker : `worker_${worker}`;
}

/** Without emit_tags_as_labels: the full name, no labels. */
function fullStat(type: Family['type'], scope: StatScope, leaf: string, value: number): Family {
  return family(statName(scope, leaf), type, [], value);
}

/**
 * With emit_tags_as_labels: the tag-extracted name and the tags as labels, as current Envoy
 * extracts them (test/integration/xfcc_integration_test.cc lists the golden names: e.g.
 * `listener.<address>.worker_0.downstream_cx_active` → `listener.worker_downstream_cx_active`).
 */
function taggedStat(type: Family['type'], scope: StatScope, leaf: string, value: number): Family {
  if (scope.listener !== undefined && EXTRACTED_ADDRESS.test(scope.listener)) {
    const labels: Label[] = [{ name: 'envoy.listener_address', value: scope.listener }];
    if (scope.worker === undefined) return family(`listener.${leaf}`, type, labels, value);
    labels.push({ name: 'envoy.worker_id', value: scope.worker });
    return family(`listener.worker_${leaf}`, type, labels, value);
  }
  if (scope.http !== undefined) {
    return family(`http.${leaf}`, type, [{ name: 'envoy.http_conn_manager_prefix', value: scope.http }], value);
  }
  // listener.admin.*, listener.<stat_prefix>.* and untagged stats keep their full name.
  return fullStat(type, scope, leaf, value);
}

function family(name: string, type: Family['type'], label: Label[], value: number): Family {
  const sample = type === 'GAUGE' ? { gauge: { value } } : { counter: { value } };
  return { name, type, metric: [{ label, timestamp_ms: Date.now(), ...sample }] };
}
