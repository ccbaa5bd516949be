/**
 * Cross-resource checks within one node group, on the canonical (decoded) form of its
 * resources: what a listener or route names must exist, so a node is never sent a config
 * that points at nothing (Envoy would warm a listener forever waiting for its RDS, or
 * answer 503 for a route to a missing cluster).
 */
import type { ConfigIssue } from './config-issue.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

type Json = Record<string, unknown>;

/** A resource in canonical proto3 JSON, and where it is in the file. */
export interface LocatedResource {
  readonly name: string;
  readonly path: string;
  readonly json: Json;
}

export type Section = 'listeners' | 'routes' | 'clusters' | 'endpoints' | 'secrets';

/**
 * A group's resources that passed their own checks, and the names declared in each section
 * (including resources with errors of their own, so one mistake is reported once, not again
 * at every reference to it).
 */
export interface GroupResources {
  readonly resources: Readonly<Record<Section, readonly LocatedResource[]>>;
  readonly declared: Readonly<Record<Section, ReadonlySet<string>>>;
}

/** Every broken reference (errors) and unused endpoint set (warnings) in a group. */
export function checkReferences({ resources: group, declared }: GroupResources): {
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
} {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const routeNames = declared.routes;
  const clusterNames = declared.clusters;
  const endpointNames = declared.endpoints;

  const needCluster = (cluster: unknown, path: string): void => {
    if (typeof cluster === 'string' && cluster !== '' && !clusterNames.has(cluster)) {
      errors.push({ path, message: `cluster "${cluster}" is not among this group's clusters` });
    }
  };

  const addresses = new Map<string, string>();
  for (const listener of group.listeners) {
    const key = addressKey(listener.json);
    if (key) {
      const other = addresses.get(key);
      if (other) {
        errors.push({
          path: `${listener.path}.address`,
          message: `listener "${listener.name}" has the same address as listener "${other}" (${key}); Envoy would reject the second`,
        });
      } else addresses.set(key, listener.name);
    }
    for (const { filter, path } of networkFilters(listener)) {
      const config = filter['typed_config'] as Json | undefined;
      const configPath = `${path}.typed_config`;
      if (config?.['@type'] === HCM) {
        const rds = config['rds'] as Json | undefined;
        const name = rds?.['route_config_name'];
        if (rds && isAds(rds['config_source']) && typeof name === 'string' && !routeNames.has(name)) {
          errors.push({
            path: `${configPath}.rds.route_config_name`,
            message: `route config "${name}" is not among this group's routes; the listener would wait for it forever`,
          });
        }
        const inline = config['route_config'] as Json | undefined;
        if (inline) routeClusters(inline, `${configPath}.route_config`, needCluster);
      } else if (config?.['@type'] === TCP_PROXY) {
        needCluster(config['cluster'], `${configPath}.cluster`);
        weightedClusters(config['weighted_clusters'], `${configPath}.weighted_clusters`, needCluster);
      }
    }
  }

  for (const route of group.routes) routeClusters(route.json, route.path, needCluster);

  if (group.clusters.length < clusterNames.size) return { errors, warnings }; // usage unknown
  const usedEndpoints = new Set<string>();
  for (const cluster of group.clusters) {
    if (cluster.json['type'] !== 'EDS') continue;
    const eds = cluster.json['eds_cluster_config'] as Json | undefined;
    const serviceName = (eds?.['service_name'] as string | undefined) ?? cluster.name;
    usedEndpoints.add(serviceName);
    if (isAds(eds?.['eds_config']) && !endpointNames.has(serviceName)) {
      errors.push({
        path: `${cluster.path}.eds_cluster_config`,
        message: `EDS cluster "${cluster.name}" has no endpoints entry with cluster_name "${serviceName}" in this group`,
      });
    }
  }
  for (const e of group.endpoints) {
    if (!usedEndpoints.has(e.name)) {
      warnings.push({ path: `${e.path}.cluster_name`, message: `no EDS cluster of this group uses endpoints "${e.name}"` });
    }
  }
  return { errors, warnings };
}

/** The route configs written inline in a listener's HTTP connection managers, with their paths. */
export function* inlineRouteConfigs(listener: LocatedResource): Generator<{ json: Json; path: string }> {
  for (const { filter, path } of networkFilters(listener)) {
    const config = filter['typed_config'] as Json | undefined;
    const inline = config?.['@type'] === HCM ? (config['route_config'] as Json | undefined) : undefined;
    if (inline) yield { json: inline, path: `${path}.typed_config.route_config` };
  }
}

/** The network filters of every filter chain, default chain included, with their paths. */
function* networkFilters(listener: LocatedResource): Generator<{ filter: Json; path: string }> {
  const chains = (listener.json['filter_chains'] as Json[] | undefined) ?? [];
  const all: [Json, string][] = chains.map((c, i) => [c, `${listener.path}.filter_chains[${i}]`]);
  const fallback = listener.json['default_filter_chain'] as Json | undefined;
  if (fallback) all.push([fallback, `${listener.path}.default_filter_chain`]);
  for (const [chain, chainPath] of all) {
    const filters = (chain['filters'] as Json[] | undefined) ?? [];
    for (const [i, filter] of filters.entries()) yield { filter, path: `${chainPath}.filters[${i}]` };
  }
}

function routeClusters(routeConfig: Json, path: string, needCluster: (c: unknown, p: string) => void): void {
  const hosts = (routeConfig['virtual_hosts'] as Json[] | undefined) ?? [];
  for (const [h, host] of hosts.entries()) {
    const routes = (host['routes'] as Json[] | undefined) ?? [];
    for (const [r, route] of routes.entries()) {
      const action = route['route'] as Json | undefined;
      if (!action) continue;
      const at = `${path}.virtual_hosts[${h}].routes[${r}].route`;
      needCluster(action['cluster'], `${at}.cluster`);
      weightedClusters(action['weighted_clusters'], `${at}.weighted_clusters`, needCluster);
      const mirrors = (action['request_mirror_policies'] as Json[] | undefined) ?? [];
      for (const [m, mirror] of mirrors.entries()) needCluster(mirror['cluster'], `${at}.request_mirror_policies[${m}].cluster`);
    }
  }
}

function weightedClusters(weighted: unknown, path: string, needCluster: (c: unknown, p: string) => void): void {
  const clusters = ((weighted as Json | undefined)?.['clusters'] as Json[] | undefined) ?? [];
  for (const [i, c] of clusters.entries()) needCluster(c['name'], `${path}.clusters[${i}].name`);
}

/** True when a ConfigSource points at the ADS stream, i.e. at drainplane itself. */
function isAds(source: unknown): boolean {
  return typeof source === 'object' && source !== null && ('ads' in source || 'self' in source);
}

function addressKey(listener: Json): string | undefined {
  const socket = (listener['address'] as Json | undefined)?.['socket_address'] as Json | undefined;
  if (!socket) return undefined;
  const protocol = (socket['protocol'] as string | undefined) ?? 'TCP';
  const host = (socket['address'] as string | undefined) ?? '';
  const port = (socket['port_value'] as number | undefined) ?? (socket['named_port'] as string | undefined) ?? 0;
  return `${protocol} ${host}:${port}`;
}
