/**
 * The part of a Kubernetes discovery.k8s.io/v1 EndpointSlice that becomes a ClusterLoadAssignment,
 * as plain data: the domain reads slices without knowing the client library that watched them.
 * Field names and null-ness follow the API (unset conditions are null or absent).
 */
export interface SliceConditions {
  /** Unset means ready (the API says so). */
  readonly ready?: boolean | null;
  /** Unset means the same as ready. */
  readonly serving?: boolean | null;
  readonly terminating?: boolean | null;
}

export interface SliceEndpoint {
  /** Only the first is used: the API says all of them are fungible. */
  readonly addresses: readonly string[];
  readonly conditions?: SliceConditions | null;
  readonly zone?: string | null;
}

export interface SlicePort {
  /** The Service port's name ("" or unset for a Service with one unnamed port). */
  readonly name?: string | null;
  /** The port the endpoints listen on (the Service's targetPort, resolved). */
  readonly port?: number | null;
  readonly protocol?: string | null;
}

export interface EndpointSliceData {
  readonly name: string;
  /** IPv4, IPv6 or FQDN. */
  readonly addressType: string;
  readonly endpoints: readonly SliceEndpoint[];
  readonly ports?: readonly SlicePort[] | null;
}
