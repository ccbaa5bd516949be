/**
 * What a drain is: a standing intent, recorded before anything is pushed, carried out as LDS
 * changes to the matching nodes, with progress measured from the nodes themselves. Plain data,
 * so the whole state can be stored as JSON and read back after a restart.
 *
 * Every set of names a drain uses (methods, states, ...) is a const array here and its type is
 * derived from it: the API's schemas, the CLI and the console take the same arrays, so a name
 * is added or removed in one place. This module imports nothing, so the console's build can
 * read it for types alone.
 */

/** Which nodes a drain takes. Every given criterion must hold; at least one is required. */
export interface Selector {
  readonly ids?: readonly string[];
  readonly cluster?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly locality?: { readonly region?: string; readonly zone?: string; readonly subZone?: string };
}

/**
 * The scopes a drain names by word; a list of listeners and a set of backend endpoints are the
 * other kinds of scope.
 */
export const SCOPE_NAMES = ['ingress', 'egress', 'all'] as const;

/** What a node drain takes on its nodes: listeners by role, or by name. */
export type ListenerScope = (typeof SCOPE_NAMES)[number] | { readonly listeners: readonly string[] };

export type Scope = ListenerScope | { readonly endpoints: EndpointTarget };

/**
 * The backend endpoints an endpoint drain takes, in the EDS (ClusterLoadAssignment) of every
 * node that carries them. Every given criterion must hold; at least one is required.
 */
export interface EndpointTarget {
  /** `HOST:PORT` as the endpoint's socket_address spells it (IPv6 as `[::1]:8080`). */
  readonly addresses?: readonly string[];
  /** The ClusterLoadAssignment's cluster_name. */
  readonly cluster?: string;
  /** The locality of the endpoint's group in the assignment. */
  readonly locality?: { readonly region?: string; readonly zone?: string; readonly subZone?: string };
  /** The endpoint's `metadata.filter_metadata["envoy.lb"]` labels (string comparison of scalars). */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * Once the drain completed, leave the endpoints out of the assignment (after they were
   * DRAINING on every node and idle there); cancel puts them back.
   */
  readonly remove?: boolean;
}

export function isEndpointScope(scope: Scope): scope is { readonly endpoints: EndpointTarget } {
  return typeof scope === 'object' && 'endpoints' in scope;
}

/**
 * - remove: LDS removal. Envoy stops accepting and drains existing connections.
 * - modify: a change to a non-filter-chain field (listener metadata). Envoy drains every old
 *   connection while the new listener keeps accepting.
 * - healthcheck-fail: Envoy's admin /healthcheck/fail (DEFAULT listeners only); undone on cancel.
 * - drain-listeners: Envoy's admin /drain_listeners?graceful (inbound only where supported).
 *   It cannot be undone, so it must be confirmed.
 * - eds: an endpoint drain's method. The endpoints go out as `health_status: DRAINING` in EDS
 *   (Envoy sends them no new request) and, with `remove`, are left out once the drain completed.
 */
export const DRAIN_METHODS = ['remove', 'modify', 'healthcheck-fail', 'drain-listeners', 'eds'] as const;

export type DrainMethod = (typeof DRAIN_METHODS)[number];

/** The methods carried out by a listener change pushed over LDS; the others call Envoy's admin API. */
export function drainsByLds(method: DrainMethod): method is 'remove' | 'modify' {
  return method === 'remove' || method === 'modify';
}

/** The methods carried out through Envoy's admin API rather than over xDS. */
export function drainsByAdmin(method: DrainMethod): method is 'healthcheck-fail' | 'drain-listeners' {
  return method === 'healthcheck-fail' || method === 'drain-listeners';
}

export const PHASE_NAMES = ['ingress', 'egress', 'listeners', 'endpoints'] as const;

export type PhaseName = (typeof PHASE_NAMES)[number];

/**
 * When the egress phase starts (of a scope-`all` drain; `egress-idle` also for scope `egress`).
 * `egress-idle`: once ingress is done (if the drain has it) and every node's egress listeners
 * were measured at or below the threshold for `quietSeconds`: the application no longer calls
 * out. An application that never lets go holds egress for `waitSeconds` at most, counted from
 * when the phase could otherwise start.
 */
export type EgressStart =
  | { readonly after: 'ingress-complete' }
  | { readonly after: 'delay'; readonly seconds: number }
  | { readonly after: 'advance' }
  | { readonly after: 'egress-idle'; readonly quietSeconds: number; readonly waitSeconds: number };

/** Every `after` of EgressStart, in the order the API lists them (a record: one left out does not compile). */
const EGRESS_AFTER_RULES: Readonly<Record<EgressStart['after'], true>> = {
  'ingress-complete': true,
  delay: true,
  advance: true,
  'egress-idle': true,
};
export const EGRESS_AFTER = Object.keys(EGRESS_AFTER_RULES) as readonly EgressStart['after'][];

export interface DrainSpec {
  readonly selector: Selector;
  readonly scope: Scope;
  readonly method: DrainMethod;
  readonly egressStart: EgressStart;
  /** At most this many nodes drain at once (a count, or a percent of the drain's nodes). */
  readonly batch: { readonly size: number } | { readonly percent: number } | null;
  /** Per node and phase, counted from when the node's batch started. */
  readonly deadlineSeconds: number;
  /** The egress phase's own deadline, where it differs (absent: `deadlineSeconds`). */
  readonly egressDeadlineSeconds?: number;
  /** Connections at or below this count as drained. */
  readonly threshold: number;
  /** How a node counts as drained: see DrainMeasure. */
  readonly measure: DrainMeasure;
  readonly confirmIrreversible: boolean;
}

/**
 * How a node counts as drained:
 * - connections: ACKed, then its listeners' connection gauges at or below the threshold;
 * - listener-drain: ACKed, then Envoy warms and drains no listener version any more (its
 *   listener manager gauges). The default of `modify`: the old and new versions of a listener
 *   share their stat names, so the old one's connections cannot be counted apart, and Envoy
 *   keeps the old version draining until its drain time ends;
 * - ack: the ACK (or the admin call) alone.
 * An endpoint drain measures `connections` by the host's active requests (at 0) and active
 * connections (at or below the threshold) in each Envoy, or `ack` alone.
 */
export const DRAIN_MEASURES = ['connections', 'listener-drain', 'ack'] as const;

export type DrainMeasure = (typeof DRAIN_MEASURES)[number];

/** A node's deadline in a phase, counted from when its batch started. */
export function phaseDeadlineSeconds(spec: DrainSpec, phase: PhaseName): number {
  return phase === 'egress' && spec.egressDeadlineSeconds !== undefined ? spec.egressDeadlineSeconds : spec.deadlineSeconds;
}

/** Where a node's listener stands under the drains: see listener-state.ts. */
export const LISTENER_STATES = ['serving', 'draining', 'gone'] as const;

export type ListenerState = (typeof LISTENER_STATES)[number];

export const DRAIN_STATES = ['running', 'completed', 'timed_out', 'failed', 'cancelled'] as const;

export type DrainState = (typeof DRAIN_STATES)[number];

export const NODE_PHASE_STATES = [
  'waiting', // its batch has not started
  'pushed', // the drained listener set was sent, not yet ACKed
  'acked', // ACKed; connections not yet at the threshold
  'drained',
  'timed_out',
  'failed', // NACKed (with Envoy's error) or an admin call failed
  'skipped', // passed over by an operator: not waited for; drained only if its batch had started
] as const;

export type NodePhaseState = (typeof NODE_PHASE_STATES)[number];

export interface ListenerProgress {
  readonly name: string;
  /**
   * Last measured active connections; null while unknown: nothing measured since the ACK, or a
   * modify drain (the old version's connections share their gauge with the new version's).
   */
  readonly connections: number | null;
}

/** One endpoint an endpoint drain takes on a node, as that node's Envoy counts it. */
export interface EndpointProgress {
  /** The ClusterLoadAssignment's cluster_name. */
  readonly cluster: string;
  /** `HOST:PORT`. */
  readonly address: string;
  /** Active requests to the host, last measured since the ACK; null while unknown. */
  readonly requests: number | null;
  /** Active connections to the host, last measured since the ACK; null while unknown. */
  readonly connections: number | null;
}

export interface NodeProgress {
  readonly nodeId: string;
  state: NodePhaseState;
  batch: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Replaced, never changed in place: a working copy of the drain shares the entries' objects. */
  listeners: ListenerProgress[];
  /** An endpoint drain's endpoints on this node (its listeners are then empty); replaced like listeners. */
  endpoints?: EndpointProgress[];
  error: string | null;
  /**
   * Why a node finished without a change: it has no listener in the phase's scope. Such an
   * entry is drained from the start and never pushed, so a phase with nothing to drain on any
   * of its nodes completes at once instead of waiting for its deadline.
   */
  note?: string;
  /**
   * While an `egress-idle` phase waits: since when (the gauge report's time) the node's egress
   * listeners have been measured at or below the threshold, without a reading above it; null
   * while they hold connections.
   */
  quietSince?: string | null;
}

/** A node entry that drains nothing: the node has no listener (or endpoint) in the phase's scope. */
export function nothingToDrain(node: NodeProgress): boolean {
  return node.listeners.length === 0 && (node.endpoints === undefined || node.endpoints.length === 0);
}

export const PHASE_STATES = ['pending', 'running', 'done'] as const;

export type PhaseState = (typeof PHASE_STATES)[number];

/** Why a phase that waited for idle egress started: see PhaseProgress.release. */
export const RELEASE_REASONS = ['idle', 'wait'] as const;

export interface PhaseProgress {
  readonly name: PhaseName;
  state: PhaseState;
  startedAt: string | null;
  finishedAt: string | null;
  nodes: NodeProgress[];
  /**
   * Why a phase that waited for idle egress started: `idle` (the app let go) or `wait` (the
   * wait ran out; the message names the listeners that held it).
   */
  release?: { readonly by: (typeof RELEASE_REASONS)[number]; readonly message: string };
}

export interface Drain {
  readonly id: string;
  readonly spec: DrainSpec;
  readonly createdAt: string;
  state: DrainState;
  finishedAt: string | null;
  /** Index into `phases` of the phase being carried out. */
  phase: number;
  phases: PhaseProgress[];
  warnings: string[];
  /** The egress phase was released by POST /advance (egress after `advance`). */
  advanced?: boolean;
  /**
   * Set while an operator holds the drain (POST /pause): no batch or phase starts; nodes already
   * started go on being measured against their deadlines.
   */
  paused?: { readonly at: string };
  /**
   * `shutdown`: started by `drainplane run`'s shutdown of its own Envoy; `pod-deleted`: started
   * because Kubernetes marked the node's pod for deletion (`kubernetes.fleetPods`). Absent:
   * through the API.
   */
  origin?: DrainOrigin;
  /**
   * Set when the drain was made history without being cancelled: it no longer acts on any
   * listener, and it is kept only to be shown. A running drain retired is also ended (cancelled).
   */
  retired?: { readonly at: string; readonly reason: string };
}

export const DRAIN_ORIGINS = ['shutdown', 'pod-deleted'] as const;

export type DrainOrigin = (typeof DRAIN_ORIGINS)[number];

/**
 * Whether a drain still shapes what its nodes are sent (their listeners, or an endpoint drain's
 * endpoints). A finished drain does (a node it drained stays drained until it is cancelled); a
 * cancelled or retired one does not.
 */
export function actsOnListeners(drain: Drain): boolean {
  return drain.state !== 'cancelled' && drain.retired === undefined;
}

export const TERMINAL: ReadonlySet<DrainState> = new Set(['completed', 'timed_out', 'failed', 'cancelled']);

export const NODE_FINISHED: ReadonlySet<NodePhaseState> = new Set(['drained', 'timed_out', 'failed', 'skipped']);

/** Whether a node's change was never started: waiting for its batch, or skipped before it. */
export function notStarted(node: NodeProgress): boolean {
  return node.state === 'waiting' || (node.state === 'skipped' && node.startedAt === null);
}
