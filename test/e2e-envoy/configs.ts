/**
 * The drainplane config and the Envoy bootstraps of the real-Envoy suite (test/e2e-envoy) and the
 * rolling-restart benchmark (bench/rolling-restart), derived from the demo files in envoy/ (so
 * both run what the README tells operators to run), with loopback addresses and free ports:
 *
 * - one group per Envoy node (matched by cluster and id), each a copy of the demo group with its
 *   own ports: the INBOUND listener routes `/h2` to an HTTP/2 (h2c) upstream, when there is one,
 *   and everything else to the HTTP/1.1 app; the OUTBOUND listener routes to the HTTP/1.1 upstream;
 * - a bootstrap per node: node id, cluster and `admin_address` metadata, ADS and the
 *   metrics_service sink to drainplane's xDS port, stats flushed every second, admin on loopback.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import YAML from 'yaml';

type Json = Record<string, any>; // parsed YAML of Envoy resources: shapes are checked where used

/** envoy/ in the repository, from dist/test/e2e-envoy/. */
const ENVOY_DIR = new URL('../../../envoy/', import.meta.url);

export const INGRESS_LISTENER = 'ingress_http';
export const EGRESS_LISTENER = 'egress_http';
/** Requests through the ingress listener under this prefix go to the HTTP/2 upstream. */
export const H2_PREFIX = '/h2';

export interface NodePorts {
  readonly id: string;
  readonly ingressPort: number;
  readonly egressPort: number;
  readonly adminPort: number;
}

export interface FleetOptions {
  readonly cluster: string;
  readonly nodes: readonly NodePorts[];
  /** The HTTP/1.1 upstream: the app behind ingress and the upstream behind egress. */
  readonly http1Port: number;
  /** The HTTP/2 (h2c) upstream behind ingress `/h2`; without it, ingress has only the app. */
  readonly h2Port?: number;
  /** The endpoints of the EDS clusters (the app), when not the HTTP/1.1 upstream alone. */
  readonly edsPorts?: readonly number[];
  /** The EDS clusters' `per_upstream_preconnect_ratio`: Envoy opens connections ahead of requests. */
  readonly edsPreconnectRatio?: number;
  /** How long Envoy keeps an idle connection to an EDS endpoint (when `edsPorts` is given); 4 s by default. */
  readonly edsIdleTimeoutSeconds?: number;
}

export async function readDemoFile(name: 'drainplane.yaml' | 'bootstrap.yaml'): Promise<string> {
  return readFile(new URL(name, ENVOY_DIR), 'utf8');
}

/** The fleet config: one group per node, each derived from the first group of the demo config. */
export function fleetConfig(demoYaml: string, o: FleetOptions): string {
  const demo = YAML.parse(demoYaml) as Json;
  const template = demo['groups']?.[0] as Json | undefined;
  if (!template) throw new Error('envoy/drainplane.yaml has no group to derive the test fleet from');
  const groups = o.nodes.map((node) => nodeGroup(structuredClone(template), node, o));
  return YAML.stringify({ groups });
}

function nodeGroup(group: Json, node: NodePorts, o: FleetOptions): Json {
  group['name'] = `e2e-${node.id}`;
  group['match'] = { cluster: o.cluster, ids: [node.id] };

  const listeners = required<Json[]>(group['listeners'], 'listeners');
  const ingress = byDirection(listeners, 'INBOUND');
  const egress = byDirection(listeners, 'OUTBOUND');
  ingress['name'] = INGRESS_LISTENER;
  egress['name'] = EGRESS_LISTENER;
  group['listeners'] = [ingress, egress];
  ingress['address'] = loopback(node.ingressPort);
  egress['address'] = loopback(node.egressPort);
  // Access logs to Envoy's stdout under load are only noise here.
  delete httpConnectionManager(ingress)['access_log'];
  delete httpConnectionManager(egress)['access_log'];

  // Every cluster of the demo points at the HTTP/1.1 upstream on loopback: EDS endpoints for EDS
  // clusters, a static load assignment for the others.
  const clusters = required<Json[]>(group['clusters'], 'clusters');
  for (const cluster of clusters) {
    if (cluster['type'] === 'EDS') continue;
    cluster['type'] = 'STATIC';
    cluster['load_assignment'] = loadAssignment(cluster['name'], o.http1Port);
  }
  // After the loop above, which would point every non-EDS cluster at the HTTP/1.1 upstream.
  if (o.h2Port !== undefined) addH2Route(group, ingress, o.h2Port);
  const edsClusters = clusters.filter((c) => c['type'] === 'EDS');
  group['endpoints'] = edsClusters.map((c) => loadAssignment(c['name'], ...(o.edsPorts ?? [o.http1Port])));
  if (o.edsPorts) for (const cluster of edsClusters) closeIdleUpstreams(cluster, o.edsIdleTimeoutSeconds ?? 4);
  if (o.edsPreconnectRatio !== undefined) {
    for (const cluster of edsClusters) cluster['preconnect_policy'] = { per_upstream_preconnect_ratio: o.edsPreconnectRatio };
  }
  return group;
}

/**
 * What the README asks of a cluster whose endpoints are drained: Envoy closes a pooled
 * connection after some seconds without a request (4 by default). Without it, a connection
 * Envoy opened under load but never used stays open to a DRAINING host (a Node backend's
 * keep-alive timer starts only after a response), and the endpoint drain waits for it until its
 * deadline. Below the backends' 5 s keep-alive, so Envoy, not the backend, closes an idle
 * connection it might reuse.
 */
function closeIdleUpstreams(cluster: Json, seconds: number): void {
  cluster['typed_extension_protocol_options'] = {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      common_http_protocol_options: { idle_timeout: `${seconds}s` },
      explicit_http_config: { http_protocol_options: {} },
    },
  };
}

/** Ingress routes (RDS): `/h2` to the HTTP/2 upstream ahead of the demo's catch-all to the app. */
function addH2Route(group: Json, ingress: Json, h2Port: number): void {
  const ingressRoutes = required<string>(httpConnectionManager(ingress)['rds']?.['route_config_name'], 'ingress rds.route_config_name');
  const routeConfig = required<Json[]>(group['routes'], 'routes').find((r) => r['name'] === ingressRoutes);
  const virtualHost = required<Json>(routeConfig?.['virtual_hosts']?.[0], `routes ${ingressRoutes} virtual_hosts[0]`);
  virtualHost['routes'] = [{ match: { prefix: H2_PREFIX }, route: { cluster: 'h2_upstream' } }, ...required<Json[]>(virtualHost['routes'], 'routes')];

  required<Json[]>(group['clusters'], 'clusters').push({
    name: 'h2_upstream',
    connect_timeout: '1s',
    type: 'STATIC',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: loadAssignment('h2_upstream', h2Port),
  });
}

export interface BootstrapOptions {
  readonly nodeId: string;
  readonly cluster: string;
  readonly xdsPort: number;
  readonly adminPort: number;
  /** How Envoy speaks ADS: state of the world (`GRPC`) or incremental (`DELTA_GRPC`). */
  readonly adsApi: AdsApi;
  /** Load reports (LRS) to drainplane instead of an admin address in the node metadata. */
  readonly loadReports?: boolean;
}

export type AdsApi = 'GRPC' | 'DELTA_GRPC';
/** Every real-Envoy scenario runs over both. */
export const ADS_APIS: readonly AdsApi[] = ['GRPC', 'DELTA_GRPC'];

/** A bootstrap derived from envoy/bootstrap.yaml for one node. */
export function bootstrapConfig(demoYaml: string, o: BootstrapOptions): string {
  const b = YAML.parse(demoYaml) as Json;
  const adminAddress = `127.0.0.1:${o.adminPort}`;
  const metadata: Json = { ...b['node']?.['metadata'], admin_address: adminAddress };
  if (o.loadReports) delete metadata['admin_address'];
  b['node'] = { ...b['node'], id: o.nodeId, cluster: o.cluster, metadata };
  const clusters = required<Json[]>(b['static_resources']?.['clusters'], 'static_resources.clusters');
  const controlPlane = required<Json>(
    clusters.find((c) => c['name'] === b['dynamic_resources']?.['ads_config']?.['grpc_services']?.[0]?.['envoy_grpc']?.['cluster_name']),
    'the static cluster that ads_config names',
  );
  const ads = required<Json>(b['dynamic_resources']?.['ads_config'], 'dynamic_resources.ads_config');
  ads['api_type'] = o.adsApi;
  controlPlane['type'] = 'STATIC';
  controlPlane['load_assignment'] = loadAssignment(controlPlane['name'], o.xdsPort);
  const sinks = required<Json[]>(b['stats_sinks'], 'stats_sinks');
  if (!sinks.some((s) => s['name'] === 'envoy.stat_sinks.metrics_service')) {
    throw new Error('envoy/bootstrap.yaml has no envoy.stat_sinks.metrics_service sink');
  }
  b['stats_flush_interval'] = '1s';
  if (o.loadReports) {
    b['cluster_manager'] = {
      ...b['cluster_manager'],
      load_stats_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: controlPlane['name'] } }] },
    };
  }
  b['admin'] = { ...b['admin'], address: loopback(o.adminPort) };
  return YAML.stringify(b);
}

function byDirection(listeners: Json[], direction: 'INBOUND' | 'OUTBOUND'): Json {
  return required<Json>(
    listeners.find((l) => l['traffic_direction'] === direction),
    `a listener with traffic_direction ${direction}`,
  );
}

function httpConnectionManager(listener: Json): Json {
  const filter = (listener['filter_chains'] as Json[] | undefined)?.[0]?.['filters']?.find(
    (f: Json) => f['name'] === 'envoy.filters.network.http_connection_manager',
  );
  return required<Json>(filter?.['typed_config'], `listener ${listener['name']}: an http_connection_manager`);
}

function loopback(port: number): Json {
  return { socket_address: { address: '127.0.0.1', port_value: port } };
}

function loadAssignment(clusterName: string, ...ports: number[]): Json {
  return { cluster_name: clusterName, endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: loopback(port) } })) }] };
}

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`cannot derive the end-to-end config: ${what} is missing`);
  return value;
}

/**
 * `count` distinct free ports on 127.0.0.1, held open together while they are picked so no two
 * are the same. Another process may still take one before Envoy binds it; that is rare.
 *
 * They are picked below the kernel's ephemeral range, never in it: a test that keeps connecting
 * to a port nothing listens on yet (a listener warming) could otherwise be given that very port
 * as its own source port, connect to itself, and hold the port Envoy is about to bind.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const [low] = ephemeralRange();
  const servers: net.Server[] = [];
  try {
    for (let tries = 0; servers.length < count; tries++) {
      if (tries > 200 + 20 * count) throw new Error(`could not find ${count} free loopback ports below ${low}`);
      const port = FIRST_TEST_PORT + Math.floor(Math.random() * (low - FIRST_TEST_PORT));
      if (!reservePort(port)) continue;
      const server = net.createServer();
      const bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (bound) servers.push(server);
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }
}

/**
 * Ports handed out by any test process on this machine, one file each naming its owner's pid:
 * test files run in parallel, and a port one of them picked stays free until its Envoy binds it,
 * so a bind check alone would let another process pick it meanwhile. A file whose owner is gone
 * is taken over; a process removes its own files when it exits.
 */
const RESERVATIONS = path.join(tmpdir(), 'drainplane-test-ports');
const reserved: string[] = [];

function reservePort(port: number): boolean {
  mkdirSync(RESERVATIONS, { recursive: true });
  const file = path.join(RESERVATIONS, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      if (reserved.length === 0) process.once('exit', () => reserved.forEach((f) => rmSync(f, { force: true })));
      reserved.push(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
      // Empty: its owner is still writing its pid.
      const owner = readOwner(file);
      if (owner === undefined || owner === '' || isAlive(Number(owner))) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

function readOwner(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // removed meanwhile: try another port
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lowest port these tests pick: above the well-known and common service ports. */
const FIRST_TEST_PORT = 20_000;

/** The kernel's ephemeral (source) port range; Linux's default where it cannot be read. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high && low > FIRST_TEST_PORT + 1_000) return [low, high];
  } catch {
    // not Linux, or no /proc: the default below
  }
  return [32_768, 60_999];
}

/** The metadata key under which taggedListeners() marks listeners. */
export const TAG_METADATA = 'drainplane_e2e';

/**
 * The fleet config with a `tag` in the metadata of every listener of one group: an LDS update
 * of those listeners that changes nothing but the tag (`filter_metadata.drainplane_e2e.tag`).
 */
export function taggedListeners(fleetYaml: string, group: string, tag: string): string {
  const config = YAML.parse(fleetYaml) as Json;
  const found = (config['groups'] as Json[]).find((g) => g['name'] === group);
  for (const listener of required<Json[]>(found?.['listeners'], `group ${group} listeners`)) {
    listener['metadata'] = { filter_metadata: { [TAG_METADATA]: { tag } } };
  }
  return YAML.stringify(config);
}
