/**
 * The API's JSON, as the console reads it (the OpenAPI document at /openapi.json describes the
 * same shapes): nodes and their listeners, the fleet summary, drains and their summaries.
 */

export type ListenerState = 'serving' | 'draining' | 'gone';
export type DrainState = 'running' | 'completed' | 'timed_out' | 'failed' | 'cancelled';
export type NodePhaseState = 'waiting' | 'pushed' | 'acked' | 'drained' | 'timed_out' | 'failed';
export type DrainMethod = 'remove' | 'modify' | 'healthcheck-fail' | 'drain-listeners';

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

export interface ListenerView {
  readonly name: string;
  readonly role: 'ingress' | 'egress' | 'unspecified';
  readonly drainType: 'DEFAULT' | 'MODIFY_ONLY';
  readonly state: ListenerState;
  readonly drain: { readonly id: string; readonly action: DrainMethod } | null;
}

export interface TypeStatus {
  readonly sent?: { readonly version: string; readonly at: string };
  readonly acked?: { readonly version: string; readonly at: string };
  readonly lastNack?: { readonly version: string; readonly message: string; readonly at: string };
}

export type XdsType = 'lds' | 'cds' | 'rds' | 'eds';

export interface NodeView {
  readonly id: string;
  readonly cluster: string;
  readonly locality: Locality;
  readonly userAgent: string;
  readonly connected: boolean;
  readonly connectedSince?: string;
  readonly lastSeen: string;
  readonly types: Partial<Record<XdsType, TypeStatus>>;
  readonly listeners: readonly ListenerView[];
}

export interface NodePage {
  readonly nodes: readonly NodeView[];
  readonly total: number;
  readonly nextCursor: string | null;
}

export type ListenerCounts = Readonly<Record<ListenerState, number>>;

export interface LocalityCounts extends Locality {
  readonly cluster: string;
  readonly nodes: number;
  readonly connected: number;
  readonly nacking: number;
  readonly listeners: ListenerCounts;
}

export interface FleetSummary {
  readonly nodes: { readonly total: number; readonly connected: number; readonly nacking: number };
  readonly listeners: ListenerCounts;
  readonly groups: readonly LocalityCounts[];
  readonly groupsOmitted: number;
  readonly drains: Readonly<Record<DrainState, number>>;
}

/** The `fleet` event of GET /v1/fleet/events. */
export interface FleetEvent {
  readonly at: string;
  readonly summary: FleetSummary;
  readonly changedNodes: readonly string[];
  readonly changedNodesOmitted: number;
}

export interface Selector {
  readonly ids?: readonly string[];
  readonly cluster?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly locality?: Partial<Locality>;
}

export type Scope = 'ingress' | 'egress' | 'all' | { readonly listeners: readonly string[] };

export interface DrainSpec {
  readonly selector: Selector;
  readonly scope: Scope;
  readonly method: DrainMethod;
  readonly egressStart:
    | { readonly after: 'ingress-complete' | 'advance' }
    | { readonly after: 'delay'; readonly seconds: number }
    | { readonly after: 'egress-idle'; readonly quietSeconds: number; readonly waitSeconds: number };
  readonly batch: { readonly size: number } | { readonly percent: number } | null;
  readonly deadlineSeconds: number;
  readonly threshold: number;
  readonly measure: DrainMeasure;
}

/** How a node counts as drained: its connections, the end of Envoy's listener drain (modify), or the ACK. */
export type DrainMeasure = 'connections' | 'listener-drain' | 'ack';

/** The body of POST /v1/drains and POST /v1/drains/preview. */
export interface DrainRequest {
  readonly selector: Selector;
  readonly scope: Scope;
  readonly method?: DrainMethod;
  readonly egress?: { readonly after: 'ingress-complete' | 'delay' | 'advance'; readonly delaySeconds?: number };
  readonly batch?: { readonly size: number } | { readonly percent: number };
  readonly deadlineSeconds?: number;
  readonly threshold?: number;
  readonly measure?: DrainMeasure;
  readonly confirm?: boolean;
}

export interface DrainPreview {
  readonly spec: DrainSpec;
  readonly matched: number;
  readonly nodes: readonly string[];
  readonly groups: readonly (Locality & { readonly cluster: string; readonly nodes: number })[];
  readonly phases: readonly { readonly name: string; readonly nodes: number; readonly listeners: readonly string[]; readonly batches: number }[];
  readonly warnings: readonly string[];
}

export interface NodeDigest {
  readonly nodeId: string;
  readonly state: NodePhaseState;
  readonly batch: number | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly deadlineAt: string | null;
  readonly listeners: readonly { readonly name: string; readonly connections: number | null }[];
  readonly connections: number | null;
  readonly holding: string | null;
  readonly error: string | null;
  /** Why the node finished at once: nothing to drain on it in this phase. */
  readonly note?: string;
  /** [epoch ms, connections], oldest first. */
  readonly history: readonly (readonly [number, number])[];
}

export interface PhaseDigest {
  readonly name: string;
  readonly state: 'pending' | 'running' | 'done';
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly total: number;
  readonly counts: Readonly<Partial<Record<NodePhaseState, number>>>;
  /** Open on the draining nodes whose count is known; null when none is known. */
  readonly connections: number | null;
  /** Draining nodes whose connection count is unknown. */
  readonly connectionsUnknown: number;
  readonly batches: readonly {
    readonly batch: number;
    readonly nodes: number;
    readonly finished: number;
    readonly drained: number;
    readonly startedAt: string | null;
  }[];
  readonly nodes: readonly NodeDigest[];
  readonly nodesOmitted: number;
}

/** GET /v1/drains/:id/summary, and the `drain` event of GET /v1/fleet/events. */
export interface DrainDigest {
  readonly id: string;
  readonly spec: DrainSpec;
  readonly createdAt: string;
  readonly state: DrainState;
  readonly finishedAt: string | null;
  readonly phase: number;
  readonly phases: readonly PhaseDigest[];
  readonly warnings: readonly string[];
  /** `shutdown`: started by `drainplane run`'s shutdown; absent: through the API. */
  readonly origin?: 'shutdown';
  /** Kept as history: the drain no longer acts on any listener. */
  readonly retired?: { readonly at: string; readonly reason: string };
}

export interface FieldError {
  readonly field: string;
  readonly message: string;
}
