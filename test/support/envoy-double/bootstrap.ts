/**
 * Reads what the Envoy test double needs from a v3 Bootstrap (YAML or JSON), after checking the
 * file against Envoy's Bootstrap proto as Envoy does (unknown fields and bad values are errors).
 * The file is read through its canonical proto3 JSON, so lowerCamel spellings work as in Envoy.
 *
 * Sources (Envoy API docs, config.bootstrap.v3.Bootstrap and the messages it names):
 * - node: id, cluster, metadata, locality; `--service-node`, `--service-cluster` and
 *   `--service-zone` override them, and ADS needs both id and cluster (the error text is Envoy's,
 *   source/common/config/utility.cc checkLocalInfo).
 * - dynamic_resources.ads_config: the gRPC service's `envoy_grpc.cluster_name` names a static
 *   cluster whose load_assignment endpoint is the control plane (a `google_grpc.target_uri` is
 *   used as given); `set_node_on_first_message_only`. lds_config and cds_config must use ADS:
 *   the double speaks nothing else.
 * - admin.address.socket_address: port 0 lets the OS pick, as Envoy does.
 * - stats_flush_interval (default 5 s) and the `envoy.stat_sinks.metrics_service` sink with its
 *   gRPC service and `emit_tags_as_labels` (ENVOY-FACTS "Admin API", last point).
 */
import { readFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import YAML from 'yaml';
import { encodeJson, messageToJson } from '../../../src/resource/json-mapping.js';
import { envoyProtos } from '../../../src/resource/protos.js';
import type { NodeIdentity } from '../ads-client.js';
import type { DoubleFlags } from './flags.js';

export interface DoubleBootstrap {
  node: NodeIdentity;
  /** Metadata entries the double cannot send: the xDS client encodes string values only. */
  unsentMetadata: string[];
  /** Envoy sends the node on every request unless set_node_on_first_message_only. */
  nodeOnFirstMessageOnly: boolean;
  /** The ADS server, `host:port`. */
  xdsAddress: string;
  admin: { host: string; port: number };
  statsFlushIntervalMs: number;
  /** The metrics_service stats sink, when configured. */
  metricsSink: { address: string; emitTagsAsLabels: boolean } | undefined;
}

export class BootstrapError extends Error {}

const METRICS_SINK = 'envoy.stat_sinks.metrics_service';
const METRICS_SINK_TYPE = 'type.googleapis.com/envoy.config.metrics.v3.MetricsServiceConfig';
/** Bootstrap.stats_flush_interval's documented default. */
const DEFAULT_FLUSH_INTERVAL_MS = 5000;

type Json = Record<string, any>;

export async function readBootstrap(flags: DoubleFlags): Promise<DoubleBootstrap> {
  let text: string;
  try {
    text = await readFile(flags.configPath, 'utf8');
  } catch (err) {
    throw new BootstrapError(`unable to read file: ${flags.configPath}: ${(err as Error).message}`);
  }
  const b = canonical(text, flags.configPath);
  const node = nodeOf(b, flags);
  const ads = b.dynamic_resources?.ads_config as Json | undefined;
  if (ads?.api_type !== 'GRPC' || !ads.grpc_services?.[0]) {
    throw new BootstrapError('the Envoy double needs dynamic_resources.ads_config with api_type GRPC and a grpc_service');
  }
  for (const source of ['lds_config', 'cds_config']) {
    if (!b.dynamic_resources[source]?.ads) throw new BootstrapError(`the Envoy double needs dynamic_resources.${source} to use ads`);
  }
  const socket = (b.admin?.address?.socket_address ?? {}) as Json;
  return {
    ...node,
    nodeOnFirstMessageOnly: ads.set_node_on_first_message_only === true,
    xdsAddress: grpcServiceAddress(b, ads.grpc_services[0], 'dynamic_resources.ads_config'),
    admin: { host: socket.address ?? '127.0.0.1', port: socket.port_value ?? 0 },
    statsFlushIntervalMs: flushIntervalMs(b.stats_flush_interval as string | undefined),
    metricsSink: metricsSinkOf(b),
  };
}

/** The bootstrap as canonical proto3 JSON, or every error Envoy's proto validation would find. */
function canonical(text: string, file: string): Json {
  let json: unknown;
  try {
    json = YAML.parse(text);
  } catch (err) {
    throw new BootstrapError(`unable to parse ${file}: ${(err as Error).message}`);
  }
  const protos = envoyProtos();
  const Bootstrap = protos.type('envoy.config.bootstrap.v3.Bootstrap');
  const encoded = encodeJson(protos, Bootstrap, json ?? {});
  if (!encoded.ok) {
    const errors = encoded.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ');
    throw new BootstrapError(`unable to parse bootstrap ${file} as envoy.config.bootstrap.v3.Bootstrap: ${errors}`);
  }
  return messageToJson(protos, Bootstrap, encoded.value);
}

function nodeOf(b: Json, flags: DoubleFlags): Pick<DoubleBootstrap, 'node' | 'unsentMetadata'> {
  const id = flags.serviceNode ?? b.node?.id ?? '';
  const cluster = flags.serviceCluster ?? b.node?.cluster ?? '';
  if (!id || !cluster) {
    throw new BootstrapError(
      "node 'id' and 'cluster' are required. Set it either in 'node' config or via --service-node and --service-cluster options.",
    );
  }
  const metadata: Record<string, string> = {};
  const unsentMetadata: string[] = [];
  for (const [key, value] of Object.entries((b.node?.metadata ?? {}) as Json)) {
    if (typeof value === 'string') metadata[key] = value;
    else unsentMetadata.push(key);
  }
  const locality = { ...(b.node?.locality as NodeIdentity['locality']), ...(flags.serviceZone !== undefined && { zone: flags.serviceZone }) };
  return {
    node: {
      id,
      cluster,
      ...(Object.keys(metadata).length > 0 && { metadata }),
      ...(Object.keys(locality).length > 0 && { locality }),
    },
    unsentMetadata,
  };
}

function metricsSinkOf(b: Json): DoubleBootstrap['metricsSink'] {
  const sink = ((b.stats_sinks ?? []) as Json[]).find(
    (s) => s.name === METRICS_SINK || s.typed_config?.['@type'] === METRICS_SINK_TYPE,
  );
  if (!sink) return undefined;
  const config = (sink.typed_config ?? {}) as Json;
  if (!config.grpc_service) throw new BootstrapError(`stats sink ${METRICS_SINK} has no grpc_service`);
  return {
    address: grpcServiceAddress(b, config.grpc_service, `stats sink ${METRICS_SINK}`),
    emitTagsAsLabels: config.emit_tags_as_labels === true,
  };
}

/** `host:port` of a GrpcService: its google_grpc target, or the first endpoint of its static cluster. */
function grpcServiceAddress(b: Json, service: Json, where: string): string {
  if (service.google_grpc?.target_uri) return service.google_grpc.target_uri as string;
  const name = service.envoy_grpc?.cluster_name as string | undefined;
  const cluster = ((b.static_resources?.clusters ?? []) as Json[]).find((c) => c.name === name);
  if (!cluster) throw new BootstrapError(`${where}: unknown static cluster "${name ?? ''}"`);
  const socket = cluster.load_assignment?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address?.socket_address as Json | undefined;
  if (!socket?.address || !socket.port_value) {
    throw new BootstrapError(`${where}: static cluster "${name}" has no load_assignment endpoint with a socket_address`);
  }
  return hostPort(socket.address as string, socket.port_value as number);
}

export function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** stats_flush_interval, a canonical JSON Duration ("1s", "0.250s"); the proto allows 1 ms to 300 s. */
function flushIntervalMs(duration: string | undefined): number {
  if (duration === undefined) return DEFAULT_FLUSH_INTERVAL_MS;
  const ms = Number(duration.slice(0, -1)) * 1000;
  if (!(ms >= 1 && ms < 300_000)) throw new BootstrapError(`stats_flush_interval ${duration} is outside [1ms, 300s)`);
  return Math.round(ms);
}
