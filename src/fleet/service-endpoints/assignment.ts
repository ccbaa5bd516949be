/**
 * A Service's EndpointSlices as the ClusterLoadAssignment Envoy gets: ready endpoints are
 * HEALTHY; terminating ones still serving are DRAINING (Envoy sends them no new request and lets
 * those in flight finish: an upstream drain that Kubernetes started); the others are left out.
 * Zones become localities. The output is canonical (localities by zone, endpoints by address,
 * one entry per address), so the same endpoints give the same bytes, whatever the slices' order.
 */
import type { EndpointSliceData, SliceEndpoint, SlicePort } from './endpoint-slice.js';
import type { ServiceEndpointsRef } from './service-ref.js';

type Health = 'HEALTHY' | 'DRAINING';

interface Placed {
  readonly address: string;
  readonly port: number;
  readonly zone: string;
  readonly health: Health;
}

/**
 * The ClusterLoadAssignment (proto3 JSON) of a Service's slices; undefined when slices with
 * endpoints have none of them on the port the ref names (a port name that is wrong, or no name
 * for a Service of several ports): that is a config mistake, not a Service without endpoints, and
 * sending an empty assignment would make Envoy drop every host.
 */
export function assignmentJson(ref: ServiceEndpointsRef, slices: readonly EndpointSliceData[]): Record<string, unknown> | undefined {
  const byAddress = new Map<string, Placed>();
  let portless = false;
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = slicePort(slice.ports ?? [], ref.port);
    if (port === undefined) {
      portless ||= slice.endpoints.length > 0;
      continue;
    }
    for (const endpoint of slice.endpoints) {
      const health = healthOf(endpoint);
      const address = endpoint.addresses[0];
      if (!health || !address) continue;
      const key = `${address}:${port}`;
      const seen = byAddress.get(key);
      // An endpoint in two slices (while the controller moves it): the one that still serves wins.
      if (seen?.health === 'HEALTHY') continue;
      byAddress.set(key, { address, port, zone: endpoint.zone ?? '', health });
    }
  }
  if (portless && byAddress.size === 0) return undefined;
  const zones = new Map<string, Placed[]>();
  for (const placed of byAddress.values()) zones.set(placed.zone, [...(zones.get(placed.zone) ?? []), placed]);
  return {
    cluster_name: ref.clusterName,
    endpoints: [...zones.keys()].sort(byText).map((zone) => ({
      ...(zone !== '' && { locality: { zone } }),
      lb_endpoints: zones
        .get(zone)!
        .sort((a, b) => byText(a.address, b.address) || a.port - b.port)
        .map((e) => ({ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } }, health_status: e.health })),
    })),
  };
}

/** What Envoy should think of an endpoint; undefined: it is not to be sent. */
function healthOf(endpoint: SliceEndpoint): Health | undefined {
  const ready = endpoint.conditions?.ready ?? true;
  const serving = endpoint.conditions?.serving ?? ready;
  const terminating = endpoint.conditions?.terminating ?? false;
  if (ready && !terminating) return 'HEALTHY';
  if (serving && terminating) return 'DRAINING';
  return undefined;
}

/**
 * The port number of the wanted Service port in a slice: by name, by number, or the only port
 * when the ref names none. TCP only: Envoy's clusters here carry TCP traffic.
 */
function slicePort(ports: readonly SlicePort[], wanted: string | number | undefined): number | undefined {
  const tcp = ports.filter((p) => (p.protocol ?? 'TCP') === 'TCP' && typeof p.port === 'number');
  const found =
    wanted === undefined
      ? tcp.length === 1
        ? tcp[0]
        : undefined
      : tcp.find((p) => (typeof wanted === 'number' ? p.port === wanted : p.name === wanted));
  return found?.port ?? undefined;
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
