/**
 * Endpoint drains without the xDS server in between: a drain manager on the file store in a
 * folder, the desired state of a config whose app cluster has two backends (in two localities,
 * with load balancing labels), and nodes that report what their Envoy would: EDS ACKs and host
 * counts (admin /clusters).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { SnapshotCache } from '../../src/cache/snapshot-cache.js';
import { DesiredState } from '../../src/fleet/desired-state/desired-state.js';
import { DrainManager } from '../../src/fleet/drain/manager.js';
import { hostKey, type HostCounts, type HostReport } from '../../src/fleet/drain/ports.js';
import { NodeRegistry } from '../../src/fleet/registry.js';
import { messageToJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { FileDrainStore } from '../../src/store/file/drain-files.js';
import { parsedConfig } from './desired-state.js';
import { openServedStream } from './manager-fixture.js';

export const BACKEND_A = '10.0.0.1:8080';
export const BACKEND_B = '10.0.0.2:8080';

/** Group "edge": cluster app (EDS) with backends A (zone a, version v1) and B (zone b, version v2); cluster other (EDS). */
export const ENDPOINTS_CONFIG = `
groups:
  - name: edge
    match: { cluster: edge }
    clusters:
      - name: app
        connect_timeout: 1s
        type: EDS
        eds_cluster_config: { eds_config: { ads: {}, resource_api_version: V3 } }
      - name: other
        connect_timeout: 1s
        type: EDS
        eds_cluster_config: { eds_config: { ads: {}, resource_api_version: V3 } }
    endpoints:
      - cluster_name: app
        endpoints:
          - locality: { zone: a }
            lb_endpoints:
              - endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 8080 } } }
                metadata: { filter_metadata: { envoy.lb: { version: v1 } } }
          - locality: { zone: b }
            lb_endpoints:
              - endpoint: { address: { socket_address: { address: 10.0.0.2, port_value: 8080 } } }
                metadata: { filter_metadata: { envoy.lb: { version: v2 } } }
      - cluster_name: other
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 10.0.0.9, port_value: 9090 } } } }] }]
`;

export interface EndpointNode {
  /** The app cluster's endpoints as the node is sent them: `HOST:PORT` -> health status ('' when unset). */
  app(): Record<string, string>;
  /** The version of the EDS resources it is sent. */
  edsVersion(): string;
  /** Its Envoy ACKs the EDS version it is meant to have now. */
  ackEds(): void;
  /** Its Envoy's host counts (admin /clusters), read now. */
  report(hosts: Readonly<Record<string, HostCounts>>): void;
}

export interface EndpointFixture {
  readonly dir: string;
  readonly drains: DrainManager;
  readonly cache: SnapshotCache;
  readonly desired: DesiredState;
  readonly nodes: NodeRegistry;
  /** Moves the clock on. */
  advance(ms: number): void;
  connect(id: string): EndpointNode;
  /** The same folder served again: a new manager, desired state and registry (a restart). */
  restart(): Promise<EndpointFixture>;
  close(): Promise<void>;
}

/**
 * `clock`: the manager's and the host reports' clock; it starts at the real time, as the
 * registry dates ACKs by it, and a test moves it on past them.
 */
export async function endpointFixture(dir?: string, clock = { now: Date.now() }): Promise<EndpointFixture> {
  const folder = dir ?? (await mkdtemp(path.join(tmpdir(), 'drainplane-endpoints-')));
  const cache = new SnapshotCache();
  const desired = new DesiredState({ cache, config: parsedConfig(ENDPOINTS_CONFIG) });
  const nodes = new NodeRegistry();
  const reports = new Map<string, HostReport>();
  const drains = new DrainManager({
    store: new FileDrainStore(folder),
    nodes,
    desired,
    connections: { latest: () => undefined },
    hosts: { latest: (id) => reports.get(id) },
    logger: pino({ level: 'silent' }),
    now: () => clock.now,
  });
  await drains.load();
  const connect = (id: string): EndpointNode => {
    const stream = openServedStream({ nodes, drains, desired }, id, 'edge');
    const eds = () => cache.snapshot(id)!.get(TypeUrl.ClusterLoadAssignment);
    return {
      app: () => appEndpoints(eds().resources.get('app')!.bytes),
      edsVersion: () => eds().version,
      ackEds: () => nodes.events.acked!(stream, TypeUrl.ClusterLoadAssignment, eds().version, 'n'),
      report: (hosts) =>
        reports.set(id, {
          at: new Date(clock.now),
          countsConnections: true,
          hosts: new Map(Object.entries(hosts).map(([address, counts]) => [hostKey('app', address), counts])),
          addresses: new Map(Object.entries(hosts)),
        }),
    };
  };
  return {
    dir: folder,
    drains,
    cache,
    desired,
    nodes,
    advance: (ms) => void (clock.now += ms),
    connect,
    restart: () => endpointFixture(folder, clock),
    close: () => rm(folder, { recursive: true, force: true }),
  };
}

/** `HOST:PORT` -> health_status of an assignment's endpoints, decoded from the bytes a node is sent. */
export function appEndpoints(bytes: Uint8Array): Record<string, string> {
  const protos = envoyProtos();
  const json = messageToJson(protos, protos.type('envoy.config.endpoint.v3.ClusterLoadAssignment'), bytes) as {
    endpoints?: { lb_endpoints?: { endpoint: { address: { socket_address: { address: string; port_value: number } } }; health_status?: string }[] }[];
  };
  const result: Record<string, string> = {};
  for (const group of json.endpoints ?? []) {
    for (const lb of group.lb_endpoints ?? []) {
      const s = lb.endpoint.address.socket_address;
      result[`${s.address}:${s.port_value}`] = lb.health_status ?? '';
    }
  }
  return result;
}
