/**
 * What drainplane knows of a node during a drain: its ACK or NACK and its latest gauges. Plain
 * data, read by progress.ts's rules and produced through the ports (ports.ts).
 */

/** What drainplane knows of the node now. */
export interface NodeObservation {
  /** The node ACKed the listener version it is meant to have (the drained one). */
  readonly acked: boolean;
  /** The node NACKed that version: Envoy's error text. */
  readonly rejected: string | undefined;
  /** The change could not be made on the node (its admin call failed): why. */
  readonly failed: string | undefined;
  /** When the ACK was seen (epoch ms), for judging whether a gauge report is fresh. */
  readonly ackedAt: number | undefined;
  /** The latest connection gauges, if any were ever reported. */
  readonly report: ConnectionReading | undefined;
  /** For an endpoint drain: the latest host counts, if any were ever read. */
  readonly hosts: HostReading | undefined;
}

/** Requests and connections a node's Envoy has open to upstream hosts. */
export interface HostReading {
  /** When they were read (epoch ms). */
  readonly at: number;
  /** False for load reports, which count requests only. */
  readonly countsConnections: boolean;
  /** Undefined when Envoy has no such host (any more), or reported no load to it: nothing is open to it. */
  counts(cluster: string, address: string): { readonly requests: number; readonly connections: number | null } | undefined;
}

export interface ConnectionReading {
  /** When Envoy reported them (epoch ms). */
  readonly at: number;
  /**
   * Active connections of a listener: a number; undefined when the report has no gauge for it
   * (Envoy dropped the stats of a listener that is gone: none left); null when the listener's
   * gauges cannot be told from the report at all (it stays unmeasured).
   */
  connections(listener: string): number | null | undefined;
  /** Listener versions Envoy warms and drains on the node; undefined when not reported. */
  readonly listenerVersions: ListenerVersions | undefined;
}

/** Envoy's listener manager counts: new versions still warming, old ones still draining. */
export interface ListenerVersions {
  readonly warming: number;
  readonly draining: number;
}
