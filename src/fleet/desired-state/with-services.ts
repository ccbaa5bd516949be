/**
 * The running config as it is served: each group that takes endpoints from Kubernetes Services
 * carries what those Services hold now (`fromServices`). Every part that reads the running config
 * (group snapshots, the endpoint catalog of upstream drains, node pages) then sees the same
 * endpoints the nodes are sent. Groups without Services are the config's own objects.
 */
import type { FleetConfig } from '../config.js';
import type { ServiceAssignments } from '../service-endpoints/service-assignments.js';

export function withServices(config: FleetConfig, services: ServiceAssignments | undefined): FleetConfig {
  if (!services || config.groups.every((g) => g.serviceEndpoints.length === 0)) return config;
  return {
    ...config,
    groups: config.groups.map((g) => (g.serviceEndpoints.length === 0 ? g : { ...g, fromServices: services.resolve(g.serviceEndpoints) })),
  };
}
