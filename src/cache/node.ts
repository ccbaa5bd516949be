/**
 * Who a node is, as it said in the `node` field of its first discovery request
 * (envoy.config.core.v3.Node). Drainplane matches config groups and drain selectors on it.
 */
export interface NodeIdentity {
  readonly id: string;
  readonly cluster: string;
  /** node.metadata (a google.protobuf.Struct) as plain JSON. */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly locality: NodeLocality;
  /** e.g. "envoy" or "grpc-node-js". */
  readonly userAgentName: string;
  /** user_agent_version, or the build version's semantic version when only that is given. */
  readonly userAgentVersion: string;
}

export interface NodeLocality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}
