/**
 * Decoding of GET /clusters?format=json into the requests and connections Envoy has open to each
 * upstream host: `cluster_statuses[].host_statuses[].stats` (`rq_active`, `cx_active`). Envoy
 * leaves `value` out of a stat that is 0 (seen on Envoy 1.40.0) and writes the others as strings.
 */
import { hostKey, type HostReport } from '../fleet/drain/ports.js';
import { hostPort } from '../fleet/endpoints/assignment.js';

export class ClustersFormatError extends Error {}

/** Admin /clusters counts connections as well as requests. */
export type ParsedHostCounts = Omit<HostReport, 'at'> & { readonly countsConnections: true };

interface AdminCounts {
  readonly requests: number;
  readonly connections: number;
}

interface HostStatusJson {
  address?: { socket_address?: { address?: string; port_value?: number } };
  stats?: { name?: string; value?: string | number }[];
}

export function parseClustersJson(json: unknown): ParsedHostCounts {
  const clusters = (json as { cluster_statuses?: unknown } | null)?.cluster_statuses;
  // Envoy with no cluster at all answers {}.
  if (clusters !== undefined && !Array.isArray(clusters)) throw new ClustersFormatError('"cluster_statuses" is not an array');
  const hosts = new Map<string, AdminCounts>();
  const addresses = new Map<string, AdminCounts>();
  for (const cluster of (clusters ?? []) as { name?: unknown; host_statuses?: HostStatusJson[] }[]) {
    if (typeof cluster.name !== 'string') throw new ClustersFormatError('a cluster status without a name');
    for (const host of cluster.host_statuses ?? []) {
      const socket = host.address?.socket_address;
      // Pipes and internal addresses are no HOST:PORT an endpoint drain can name.
      if (socket?.address === undefined || socket.port_value === undefined) continue;
      const address = hostPort(socket.address, socket.port_value);
      const counts = { requests: statValue(host, 'rq_active'), connections: statValue(host, 'cx_active') };
      hosts.set(hostKey(cluster.name, address), counts);
      const sum = addresses.get(address);
      addresses.set(address, sum ? { requests: sum.requests + counts.requests, connections: sum.connections + counts.connections } : counts);
    }
  }
  return { countsConnections: true, hosts, addresses };
}

function statValue(host: HostStatusJson, name: string): number {
  const value = Number(host.stats?.find((s) => s.name === name)?.value ?? 0);
  if (!Number.isFinite(value)) throw new ClustersFormatError(`${name} is not a number`);
  return value;
}
