const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Bounds on what one discovery stream keeps for its node. Everything a client sends is held
 * within them before any authentication: plaintext xDS listens on every address by default.
 */
export interface StreamLimits {
  /** Most resource names one request may subscribe to (and one Delta stream, in all). */
  readonly maxResourceNames: number;
  /**
   * Bytes of responses a node may leave unread. A response that would queue more behind ones
   * still unread resets the stream (one response alone always goes out, however large).
   */
  readonly maxQueuedBytes: number;
  /**
   * Bytes of node metadata (as JSON) kept per node: beyond it, the first keys that fit are kept
   * and one more key says what was cut.
   */
  readonly maxNodeMetadataBytes: number;
  /** Bytes of a NACK's error_detail message kept, logged and reported; the rest is cut. */
  readonly maxNackMessageBytes: number;
}

/** Every bound on the xDS port, and on what the daemon keeps of the nodes it served. */
export interface XdsLimits extends StreamLimits {
  /**
   * Largest message accepted, in bytes; grpc-js ends a stream that sends a larger one with
   * RESOURCE_EXHAUSTED. It covers every service on the port, Envoy's metrics sink included.
   */
  readonly maxReceiveMessageBytes: number;
  /** Largest response message sent, in bytes. */
  readonly maxSendMessageBytes: number;
  /** Concurrent gRPC streams one HTTP/2 connection may open (its SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxConcurrentStreams: number;
  /**
   * Bytes of responses all nodes together may leave unread. Past it, the streams whose unread
   * bytes have waited longest are reset until the new response fits.
   */
  readonly maxTotalQueuedBytes: number;
  /**
   * Bytes of shared responses kept for lists of resource names that nodes ask for (SotW by
   * name, RDS and EDS): the least recently used go first.
   */
  readonly maxSelectionCacheBytes: number;
  /** Bytes of rejections (NACKs) kept for parking, over all nodes; the oldest go first. */
  readonly maxParkedBytes: number;
  /** Disconnected nodes remembered (GET /v1/nodes), the oldest forgotten first. */
  readonly maxDisconnectedNodes: number;
  /** Bytes those disconnected nodes may take (identity, metadata, last NACKs), the oldest forgotten first. */
  readonly maxDisconnectedNodeBytes: number;
  /** Log lines per node and event per minute; the rest is counted in one summary line. 0: no limit. */
  readonly maxLogLinesPerNode: number;
  /** Log lines per event per minute over all nodes (clients may invent node ids). 0: no limit. */
  readonly maxLogLinesPerEvent: number;
}

export const DEFAULT_XDS_LIMITS: XdsLimits = {
  maxResourceNames: 100_000,
  // A DiscoveryRequest is small; one flush of Envoy's metrics sink, the largest message on the
  // port, stays under this unless the Envoy has many thousands of stats (raise it then).
  maxReceiveMessageBytes: 4 * MiB,
  maxSendMessageBytes: 64 * MiB,
  // Envoy opens one ADS stream (and one metrics stream) per connection; per-type xDS, a few.
  maxConcurrentStreams: 100,
  // Responses wait for their ACK, so an honest node never has more than one per type unread.
  maxQueuedBytes: 64 * MiB,
  // A fleet-wide push writes one response to every stream before any is read: 10,000 nodes
  // with 25 KiB each fit.
  maxTotalQueuedBytes: 256 * MiB,
  // Envoy's metadata is a few KiB (Istio's, some 10 KiB).
  maxNodeMetadataBytes: 64 * KiB,
  // Envoy's NACK messages are a few KiB, one line per rejected resource.
  maxNackMessageBytes: 16 * KiB,
  // Nodes of a group ask for the same names: a few entries per group and type.
  maxSelectionCacheBytes: 64 * MiB,
  // 10,000 nodes rejecting a config with 4 KiB messages on two types take 80 MB.
  maxParkedBytes: 128 * MiB,
  maxDisconnectedNodes: 10_000,
  // 10,000 nodes of 6 KiB each.
  maxDisconnectedNodeBytes: 64 * MiB,
  maxLogLinesPerNode: 30,
  // A fleet-wide push logs a line per node: a 10,000-node fleet's are summed up past this.
  maxLogLinesPerEvent: 1000,
};
