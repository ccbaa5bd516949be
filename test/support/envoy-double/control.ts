/**
 * Parent side of the Envoy test double (main.ts): writing its bootstrap, the command that runs it
 * (under a supervisor, `drainplane run -- ...`, with ENVOY_DOUBLE_EVENTS in the environment),
 * reading its events, and setting the connection gauges it reports.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { GAUGES_HOOK } from './admin.js';
import { parseEventFile, type ConnectionGaugeSettings, type EnvoyDoubleEvent } from './events.js';

/** The compiled executable. */
const ENVOY_DOUBLE_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** The command line that runs the double with these Envoy arguments, e.g. as a supervisor's child. */
export function envoyDoubleCommand(envoyArgs: readonly string[]): string[] {
  return [process.execPath, '--enable-source-maps', ENVOY_DOUBLE_MAIN, ...envoyArgs];
}

// ---------------------------------------------------------------------------------------------
// Events

/** Every event in the file so far; none when the file does not exist yet. */
export async function readEvents(file: string): Promise<EnvoyDoubleEvent[]> {
  try {
    return parseEventFile(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Gauges

/**
 * Replaces the connection gauges the double serves on /stats and sends on its metrics sink,
 * through its test hook. Missing fields mean no gauges of that kind.
 */
export async function setGauges(adminAddress: string, gauges: Partial<ConnectionGaugeSettings>): Promise<void> {
  const res = await fetch(`http://${adminAddress}${GAUGES_HOOK}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(gauges),
  });
  if (res.status !== 200) throw new Error(`${GAUGES_HOOK} answered ${res.status}: ${await res.text()}`);
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

export interface DoubleBootstrapOptions {
  nodeId: string;
  cluster: string;
  /** The control plane, `host:port`; ADS and (when on) the metrics sink both go there. */
  xdsAddress: string;
  /** Default 0: the double picks a free port and reports it in its `started` event. */
  adminPort?: number;
  /** The envoy.stat_sinks.metrics_service sink; default on. */
  metricsSink?: boolean;
  /** Default true, as in envoy/bootstrap.yaml. */
  emitTagsAsLabels?: boolean;
  /** stats_flush_interval; default 1000. */
  statsFlushIntervalMs?: number;
  metadata?: Record<string, string>;
}

export interface WrittenBootstrap {
  /** A new temp folder holding the file, for the caller to remove; a good place for the events file too. */
  dir: string;
  file: string;
}

/** Writes a bootstrap shaped like envoy/bootstrap.yaml into a new temp folder. */
export async function writeDoubleBootstrap(o: DoubleBootstrapOptions): Promise<WrittenBootstrap> {
  const { host, port } = splitHostPort(o.xdsAddress);
  const grpcService = { envoy_grpc: { cluster_name: 'xds_cluster' } };
  const bootstrap = {
    node: { id: o.nodeId, cluster: o.cluster, ...(o.metadata && { metadata: o.metadata }) },
    dynamic_resources: {
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        set_node_on_first_message_only: true,
        grpc_services: [grpcService],
      },
      lds_config: { ads: {}, resource_api_version: 'V3' },
      cds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: {
      clusters: [
        {
          name: 'xds_cluster',
          type: 'STATIC',
          connect_timeout: '1s',
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
          load_assignment: {
            cluster_name: 'xds_cluster',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }],
          },
        },
      ],
    },
    stats_flush_interval: `${(o.statsFlushIntervalMs ?? 1000) / 1000}s`,
    ...((o.metricsSink ?? true) && {
      stats_sinks: [
        {
          name: 'envoy.stat_sinks.metrics_service',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.config.metrics.v3.MetricsServiceConfig',
            transport_api_version: 'V3',
            emit_tags_as_labels: o.emitTagsAsLabels ?? true,
            grpc_service: grpcService,
          },
        },
      ],
    }),
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: o.adminPort ?? 0 } } },
  };
  const dir = await mkdtemp(path.join(tmpdir(), 'envoy-double-'));
  const file = path.join(dir, 'bootstrap.yaml');
  await writeFile(file, YAML.stringify(bootstrap));
  return { dir, file };
}

function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`"${address}" is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}
