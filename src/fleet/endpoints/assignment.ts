/**
 * The endpoints of a ClusterLoadAssignment as an endpoint drain sees them: cluster, `HOST:PORT`,
 * locality and load balancing labels, each with its place in the assignment's JSON. Decoded
 * from the resource bytes once per resource, and shared by the catalog (which nodes carry an
 * endpoint) and the overlay (which lb_endpoints to mark).
 */
import type { EncodedResource } from '../../resource/encoded-resource.js';
import { messageToJson } from '../../resource/json-mapping.js';
import { envoyProtos } from '../../resource/protos.js';

/** The metadata namespace of Envoy's load balancing labels (subset load balancer). */
export const LB_METADATA_NAMESPACE = 'envoy.lb';

export interface AssignedEndpoint {
  readonly cluster: string;
  /** `HOST:PORT`, IPv6 hosts in brackets; empty for an endpoint that is no socket address. */
  readonly address: string;
  readonly locality: { readonly region: string; readonly zone: string; readonly subZone: string };
  /** `metadata.filter_metadata["envoy.lb"]`. */
  readonly labels: Readonly<Record<string, unknown>>;
  /** Index into the assignment's `endpoints` (localities), then into its `lb_endpoints`. */
  readonly at: readonly [locality: number, lbEndpoint: number];
}

/** A ClusterLoadAssignment in its proto3 JSON form (the fields read here). */
export interface AssignmentJson {
  cluster_name?: string;
  endpoints?: {
    locality?: { region?: string; zone?: string; sub_zone?: string };
    lb_endpoints?: Record<string, unknown>[];
  }[];
  [field: string]: unknown;
}

interface Decoded {
  readonly json: AssignmentJson;
  readonly endpoints: readonly AssignedEndpoint[];
}

const decoded = new WeakMap<EncodedResource, Decoded>();

/** The assignment's JSON and endpoints; decoded once per resource. */
export function assignmentOf(resource: EncodedResource): Decoded {
  let found = decoded.get(resource);
  if (found) return found;
  const protos = envoyProtos();
  const json = messageToJson(protos, protos.type('envoy.config.endpoint.v3.ClusterLoadAssignment'), resource.bytes) as AssignmentJson;
  const cluster = json.cluster_name ?? resource.name;
  const endpoints: AssignedEndpoint[] = [];
  (json.endpoints ?? []).forEach((group, i) => {
    const locality = { region: group.locality?.region ?? '', zone: group.locality?.zone ?? '', subZone: group.locality?.sub_zone ?? '' };
    (group.lb_endpoints ?? []).forEach((lb, j) => {
      endpoints.push({ cluster, address: addressOf(lb), locality, labels: labelsOf(lb), at: [i, j] });
    });
  });
  found = { json, endpoints };
  decoded.set(resource, found);
  return found;
}

/** `HOST:PORT` as endpoint drains name an endpoint; IPv6 hosts in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function addressOf(lb: Record<string, unknown>): string {
  const socket = (lb['endpoint'] as { address?: { socket_address?: { address?: string; port_value?: number } } } | undefined)?.address
    ?.socket_address;
  return socket?.address !== undefined && socket.port_value !== undefined ? hostPort(socket.address, socket.port_value) : '';
}

function labelsOf(lb: Record<string, unknown>): Readonly<Record<string, unknown>> {
  const metadata = lb['metadata'] as { filter_metadata?: Record<string, Record<string, unknown>> } | undefined;
  return metadata?.filter_metadata?.[LB_METADATA_NAMESPACE] ?? {};
}
