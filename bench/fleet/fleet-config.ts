/**
 * The fleet config the benchmark serves: several node groups (matched by node.cluster), each with
 * its own listeners (half INBOUND, half OUTBOUND, HTTP connection managers routing over RDS),
 * route configurations, EDS clusters and their endpoints, written the way operators write them.
 * Names differ per group, so no two groups share an encoded resource.
 */

export interface FleetShape {
  readonly groups: number;
  /** Listeners per group: the first half INBOUND, the rest OUTBOUND. */
  readonly listeners: number;
  readonly clusters: number;
  /** Endpoints per cluster load assignment. */
  readonly endpointsPerCluster: number;
}

export const DEFAULT_SHAPE: FleetShape = { groups: 4, listeners: 10, clusters: 50, endpointsPerCluster: 3 };

/** What a simulated node of a group subscribes to, and what a drain of its ingress removes. */
export interface GroupPlan {
  readonly name: string;
  /** node.cluster of the group's nodes. */
  readonly nodeCluster: string;
  readonly clusters: readonly string[];
  readonly routes: readonly string[];
  readonly inbound: readonly string[];
  readonly outbound: readonly string[];
}

/** Every node carries this metadata, so one drain selector takes the whole fleet. */
export const FLEET_METADATA = { bench: 'fleet' } as const;

/** The locality zone of the node with this index: the fleet is spread over three. */
export function nodeZone(index: number): string {
  return `zone-${index % 3}`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

export function groupPlans(shape: FleetShape): GroupPlan[] {
  const inboundCount = Math.ceil(shape.listeners / 2);
  return Array.from({ length: shape.groups }, (_, g) => {
    const inbound = Array.from({ length: inboundCount }, (_, k) => `g${g}-inbound-${pad(k)}`);
    const outbound = Array.from({ length: shape.listeners - inboundCount }, (_, k) => `g${g}-outbound-${pad(k)}`);
    return {
      name: `svc-${g}`,
      nodeCluster: `svc-${g}`,
      clusters: Array.from({ length: shape.clusters }, (_, k) => `g${g}-upstream-${pad(k)}`),
      routes: [...inbound, ...outbound].map((l) => `${l}-routes`),
      inbound,
      outbound,
    };
  });
}

/**
 * The config document. `revision` goes into the metadata of each group's first OUTBOUND
 * listener: a new revision changes exactly one listener per group, so a reload pushes a new LDS
 * version to every node while its clusters, routes and endpoints stay as they were.
 */
export function fleetConfigYaml(shape: FleetShape, revision: number): string {
  const out: string[] = ['groups:'];
  groupPlans(shape).forEach((plan, g) => {
    out.push(`  - name: ${plan.name}`, `    match: { cluster: ${plan.nodeCluster} }`, '    listeners:');
    const all = [...plan.inbound.map((name) => ({ name, inbound: true })), ...plan.outbound.map((name) => ({ name, inbound: false }))];
    all.forEach((l, k) => out.push(listener(l.name, l.inbound, 15000 + k, l.name === plan.outbound[0] ? revision : undefined)));
    out.push('    routes:');
    all.forEach((l, k) => out.push(routeConfig(`${l.name}-routes`, plan.clusters, k)));
    out.push('    clusters:');
    for (const c of plan.clusters) out.push(cluster(c));
    out.push('    endpoints:');
    plan.clusters.forEach((c, k) => out.push(loadAssignment(c, g, k, shape.endpointsPerCluster)));
  });
  return `${out.join('\n')}\n`;
}

function listener(name: string, inbound: boolean, port: number, revision: number | undefined): string {
  const metadata = revision === undefined ? '' : `\n        metadata: { filter_metadata: { bench: { revision: "${revision}" } } }`;
  return `      - name: ${name}
        traffic_direction: ${inbound ? 'INBOUND' : 'OUTBOUND'}${metadata}
        address: { socket_address: { address: ${inbound ? '0.0.0.0' : '127.0.0.1'}, port_value: ${port} } }
        per_connection_buffer_limit_bytes: 32768
        filter_chains:
          - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ${name.replace(/-/g, '_')}
                  codec_type: AUTO
                  use_remote_address: ${inbound}
                  stream_idle_timeout: 300s
                  request_timeout: 60s
                  common_http_protocol_options: { idle_timeout: 3600s, headers_with_underscores_action: REJECT_REQUEST }
                  rds: { route_config_name: ${name}-routes, config_source: { ads: {}, resource_api_version: V3 } }
                  access_log:
                    - name: envoy.access_loggers.stdout
                      typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog }
                  http_filters:
                    - name: envoy.filters.http.router
                      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;
}

/** Three virtual hosts of four routes each, spread over the group's clusters. */
function routeConfig(name: string, clusters: readonly string[], offset: number): string {
  const hosts = [0, 1, 2].map((h) => {
    const routes = [0, 1, 2, 3].map((r) => {
      const c = clusters[(offset * 12 + h * 4 + r) % clusters.length]!;
      const match = r === 3 ? '{ prefix: "/" }' : `{ prefix: "/api/v${r + 1}/" }`;
      return `              - match: ${match}
                route: { cluster: ${c}, timeout: 15s, retry_policy: { retry_on: "5xx,reset,connect-failure", num_retries: 2 } }`;
    });
    return `          - name: vh-${h}
            domains: ["${h === 2 ? '*' : `svc-${offset}-${h}.example.internal`}"]
            routes:
${routes.join('\n')}`;
  });
  return `      - name: ${name}
        virtual_hosts:
${hosts.join('\n')}`;
}

function cluster(name: string): string {
  return `      - name: ${name}
        connect_timeout: 1s
        type: EDS
        eds_cluster_config: { eds_config: { ads: {}, resource_api_version: V3 } }
        lb_policy: LEAST_REQUEST
        circuit_breakers: { thresholds: [{ max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 }] }
        outlier_detection: { consecutive_5xx: 5, interval: 10s, base_ejection_time: 30s, max_ejection_percent: 50 }`;
}

function loadAssignment(name: string, group: number, k: number, endpoints: number): string {
  const lb = Array.from(
    { length: endpoints },
    (_, e) => `              - endpoint: { address: { socket_address: { address: 10.${group}.${k}.${e + 10}, port_value: 8080 } } }`,
  );
  return `      - cluster_name: ${name}
        endpoints:
          - locality: { region: bench, zone: zone-${k % 3} }
            lb_endpoints:
${lb.join('\n')}`;
}
