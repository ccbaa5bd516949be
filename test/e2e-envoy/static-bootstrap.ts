/**
 * A node group's resources as one Envoy bootstrap for `envoy --mode validate`, judged as Envoy
 * judges them when they come over xDS. Listeners and clusters are static resources, as the file
 * writes them (junk included: Envoy is the judge of it). The bootstrap has an ADS stream, which
 * validate mode never connects, so a listener's RDS or a cluster's EDS over ADS is accepted as it
 * is dynamically: Envoy waits for what it names. Every route config is given to Envoy on a
 * listener of its own, and every endpoint set on a static cluster of its own, since Envoy checks
 * each one it receives over RDS or EDS, whether something names it or not.
 */
type Json = Record<string, unknown>;

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
/** The cluster the bootstrap's ADS stream names; no example uses it. */
const ADS_CLUSTER = 'differential_ads';

export function staticBootstrap(group: unknown): Json {
  const g = isObject(group) ? group : {};
  const listeners = [...listOf(g['listeners']), ...listOf(g['routes']).map(routeHolder)];
  const endpointHolders = listOf(g['endpoints']).map((e, i) => ({ name: `differential_endpoints_${i}`, type: 'STATIC', load_assignment: e }));
  const adsCluster = { name: ADS_CLUSTER, type: 'STATIC', load_assignment: { cluster_name: ADS_CLUSTER, endpoints: [] } };
  return {
    node: { id: 'differential', cluster: 'differential' },
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: ADS_CLUSTER } }] },
    },
    static_resources: { listeners, clusters: [...listOf(g['clusters']), ...endpointHolders, adsCluster] },
  };
}

/**
 * A route config as RDS delivers it: `validate_clusters` is false unless it says otherwise (it
 * defaults to true only for a route config inline in a listener).
 */
function asServedOverRds(route: unknown): unknown {
  if (!isObject(route) || 'validate_clusters' in route || 'validateClusters' in route) return route;
  return { ...route, validate_clusters: false };
}

/** A listener that only holds a route config nothing names (an abstract socket: never bound in validate mode). */
function routeHolder(route: unknown, i: number): Json {
  const hcm = { '@type': HCM, stat_prefix: `differential_routes_${i}`, route_config: asServedOverRds(route), http_filters: [routerFilter()] };
  return {
    name: `differential_routes_${i}`,
    address: { pipe: { path: `@differential-routes-${i}` } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }] }],
  };
}

function routerFilter(): Json {
  return { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } };
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
