/**
 * The bootstrap that points an imported Envoy at drainplane: every setting of the original kept
 * as written (node, admin, stats, runtime, overload manager, tracing, cluster manager, ...), its
 * static listeners and moved clusters left out, and what envoy/bootstrap.yaml adds: ADS to
 * drainplane, the drainplane cluster, the metrics_service stats sink (unless the bootstrap has
 * one), and the admin address in the node metadata, which drains poll for connection counts.
 */
import { hostPort } from '../endpoints/assignment.js';
import { dynamicResources, metricsSink, METRICS_SERVICE_CONFIG, METRICS_SINK, xdsCluster, type XdsTarget } from './drainplane-source.js';
import type { StaticBootstrap } from './static-bootstrap.js';
import { isObject, type Json, type WrittenMessage } from './written-message.js';

export interface ServedBootstrapOptions {
  readonly xds: XdsTarget;
  /** The static clusters that stay in the bootstrap. */
  readonly kept: ReadonlySet<string>;
  /** The static secrets that stay in the bootstrap (those kept clusters name). */
  readonly keptSecrets: ReadonlySet<string>;
  /** node.cluster to set, for a bootstrap that names none. */
  readonly nodeCluster?: string;
}

export function servedBootstrap(b: StaticBootstrap, o: ServedBootstrapOptions): Json {
  const { root } = b;
  const out: Json = {};
  if (root.key('node') === undefined) out['node'] = servedNode(undefined, b, o);
  for (const [key, value] of Object.entries(root.json)) {
    switch (root.fieldOf(key)) {
      case 'node':
        out[key] = servedNode(root.message('node'), b, o);
        break;
      case 'static_resources':
        // Before the static resources, as envoy/bootstrap.yaml has it; the refusals of
        // readStaticBootstrap leave no config source of its own in an existing dynamic_resources.
        if (root.key('dynamic_resources') === undefined) out['dynamic_resources'] = dynamicResources(o.xds.cluster);
        out[key] = servedStaticResources(root.message('static_resources')!, o);
        break;
      case 'dynamic_resources':
        out[key] = { ...(value as Json), ...dynamicResources(o.xds.cluster) };
        break;
      case 'stats_sinks': {
        const sinks: unknown[] = Array.isArray(value) ? value : [];
        out[key] = hasMetricsSink(root) ? value : [...sinks, metricsSink(o.xds.cluster)];
        break;
      }
      default:
        out[key] = value;
    }
  }
  if (root.key('stats_sinks') === undefined) out['stats_sinks'] = [metricsSink(o.xds.cluster)];
  return out;
}

function servedStaticResources(resources: WrittenMessage, o: ServedBootstrapOptions): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(resources.json)) {
    const field = resources.fieldOf(key);
    if (field === 'listeners') continue;
    if (field === 'secrets') {
      const kept = resources
        .entries('secrets')
        .flatMap(({ message }) => (message && o.keptSecrets.has(message.string('name') ?? '') ? [message.json] : []));
      if (kept.length > 0) out[key] = kept;
    } else if (field === 'clusters') {
      const kept = resources
        .entries('clusters')
        .flatMap(({ message }) => (message && o.kept.has(message.string('name') ?? '') ? [message.json] : []));
      out[key] = [...kept, xdsCluster(o.xds)];
    } else out[key] = value;
  }
  if (resources.key('clusters') === undefined) out['clusters'] = [xdsCluster(o.xds)];
  return out;
}

function servedNode(node: WrittenMessage | undefined, b: StaticBootstrap, o: ServedBootstrapOptions): Json {
  const out: Json = { ...node?.json };
  if (o.nodeCluster !== undefined && b.node.cluster === undefined) out[node?.key('cluster') ?? 'cluster'] = o.nodeCluster;
  const admin = adminAddress(b.root.message('admin'));
  const metadataKey = node?.key('metadata') ?? 'metadata';
  const metadata = isObject(out[metadataKey]) ? out[metadataKey] : {};
  if (admin !== undefined && metadata['admin_address'] === undefined) out[metadataKey] = { ...metadata, admin_address: admin };
  return out;
}

/**
 * The admin API's address as drainplane reaches it, `host:port`: an admin bound to every address
 * is reached on loopback, which drainplane takes without `envoyAdmin.allowRemote`. None when the
 * admin listens on no socket address, or on a port Envoy picks at start.
 */
function adminAddress(admin: WrittenMessage | undefined): string | undefined {
  const socket = admin?.message('address')?.message('socket_address');
  const port = Number(socket?.get('port_value'));
  if (!socket || !Number.isInteger(port) || port <= 0) return undefined;
  const written = socket.string('address') ?? '0.0.0.0';
  const host = written === '0.0.0.0' ? '127.0.0.1' : written === '::' ? '::1' : written;
  return hostPort(host, port);
}

function hasMetricsSink(root: WrittenMessage): boolean {
  return root
    .entries('stats_sinks')
    .some(({ message }) => message?.string('name') === METRICS_SINK || message?.message('typed_config')?.json['@type'] === METRICS_SERVICE_CONFIG);
}
