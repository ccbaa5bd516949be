/**
 * The config the hostile-client soak serves: the fleet benchmark's groups (honest nodes, and the
 * attackers that claim to be of them) and one group, "bulk", whose listeners are large, so that
 * streams that never read it hold enough to press on the server-wide send budget.
 */
import { fleetConfigYaml, groupPlans, type FleetShape, type GroupPlan } from '../fleet/fleet-config.js';

/** Four groups of ten listeners (five INBOUND), ten clusters of two endpoints: small responses. */
export const HONEST_SHAPE: FleetShape = { groups: 4, listeners: 10, clusters: 10, endpointsPerCluster: 2 };

/** node.cluster of the bulk group. */
export const BULK_CLUSTER = 'bulk';

/** Listeners of the bulk group: its LDS response is about `bulkBytes` over this many listeners. */
const BULK_LISTENERS = 8;

export function honestPlans(): GroupPlan[] {
  return groupPlans(HONEST_SHAPE);
}

/**
 * The document. `revision` changes one listener in every group (bulk included), so a rewrite
 * pushes a new LDS version to every node. The bulk listeners' padding is a plain YAML scalar:
 * a quoted one of megabytes takes the YAML parser ten times longer.
 */
export function hostileConfigYaml(revision: number, bulkBytes: number): string {
  const pad = 'p'.repeat(Math.max(1, Math.floor(bulkBytes / BULK_LISTENERS)));
  const listeners = Array.from({ length: BULK_LISTENERS }, (_, k) => {
    const name = `bulk-${String(k).padStart(2, '0')}`;
    return `      - name: ${name}
        traffic_direction: ${k % 2 === 0 ? 'INBOUND' : 'OUTBOUND'}
        metadata:
          filter_metadata:
            bulk:
              revision: "${k === 0 ? revision : 0}"
              pad: ${pad}
        address: { socket_address: { address: 127.0.0.1, port_value: ${16000 + k} } }
        filter_chains:
          - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ${name.replace(/-/g, '_')}
                  rds: { route_config_name: bulk-routes, config_source: { ads: {}, resource_api_version: V3 } }
                  http_filters:
                    - name: envoy.filters.http.router
                      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`;
  });
  const bulk = `  - name: bulk
    match: { cluster: ${BULK_CLUSTER} }
    listeners:
${listeners.join('\n')}
    routes:
      - name: bulk-routes
        virtual_hosts:
          - name: all
            domains: ["*"]
            routes: [{ match: { prefix: "/" }, route: { cluster: bulk-upstream } }]
    clusters:
      - name: bulk-upstream
        connect_timeout: 1s
        type: EDS
        eds_cluster_config: { eds_config: { ads: {}, resource_api_version: V3 } }
    endpoints:
      - cluster_name: bulk-upstream
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8080 } } } }] }]
`;
  return `${fleetConfigYaml(HONEST_SHAPE, revision)}${bulk}`;
}
