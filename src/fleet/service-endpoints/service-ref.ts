/**
 * A group's assignment whose endpoints come from a Kubernetes Service: the ClusterLoadAssignment
 * `clusterName` holds the ready and terminating endpoints of the Service `namespace/service`,
 * on the port `port` names (a Service port name, or the endpoints' port number).
 */
export interface ServiceEndpointsRef {
  readonly clusterName: string;
  readonly namespace: string;
  readonly service: string;
  /** A Service port name, the endpoints' port number, or unset for a Service with one port. */
  readonly port?: string | number;
}

/** The Service a ref watches, as `namespace/name`. */
export function serviceKey(ref: Pick<ServiceEndpointsRef, 'namespace' | 'service'>): string {
  return `${ref.namespace}/${ref.service}`;
}

/** What one assignment is made of: the Service, the port and the name it is served under. */
export function assignmentKey(ref: ServiceEndpointsRef): string {
  return `${serviceKey(ref)}:${ref.port ?? ''}>${ref.clusterName}`;
}
