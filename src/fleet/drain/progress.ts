/**
 * How one node's part of a drain phase moves on, judged from what the node itself reports:
 * its ACK or NACK of the drained listener set, and its listeners' connection gauges.
 * Pure functions of their inputs, so each rule is tested on its own.
 */
import type { DrainSpec, EndpointProgress, NodeProgress } from './model.js';
import type { ConnectionReading, HostReading, NodeObservation } from './observation.js';

/** Where a node stands, and what changed. Mutates `node`; returns true if anything did. */
export function advanceNode(
  node: NodeProgress,
  spec: DrainSpec,
  seen: NodeObservation,
  now: number,
  deadlineSeconds: number = spec.deadlineSeconds,
): boolean {
  const before = node.state;
  let measured = false;
  if (node.state === 'pushed') {
    if (seen.failed !== undefined) finish(node, 'failed', now, seen.failed);
    else if (seen.rejected !== undefined) finish(node, 'failed', now, `the node rejected the ${changeName(node)}: ${seen.rejected}`);
    else if (seen.acked) node.state = 'acked';
  }
  if (node.state === 'acked') {
    if (spec.measure === 'ack') {
      finish(node, 'drained', now, null);
    } else if (spec.measure === 'listener-drain') {
      if (listenersSettled(node, seen)) finish(node, 'drained', now, null);
    } else if (node.endpoints !== undefined) {
      const hosts = hostsSinceAck(node, seen);
      measured = measureHosts(node, hosts);
      if (
        hosts &&
        node.endpoints.every((e) => e.requests === 0 && (e.connections === null ? !hosts.countsConnections : e.connections <= spec.threshold))
      ) {
        finish(node, 'drained', now, null);
      }
    } else {
      measured = measure(node, seen);
      if (node.listeners.every((l) => l.connections !== null && l.connections <= spec.threshold)) {
        finish(node, 'drained', now, null);
      }
    }
  }
  if ((node.state === 'pushed' || node.state === 'acked') && pastDeadline(node, deadlineSeconds, now)) {
    finish(node, 'timed_out', now, timeoutReason(node, spec, seen, deadlineSeconds));
  }
  // What a progress change can touch: the state and the measured counts.
  return measured || node.state !== before;
}

/** What the node was pushed: an endpoint drain changes its EDS, the others its listeners. */
function changeName(node: NodeProgress): string {
  return node.endpoints !== undefined ? 'endpoints marked DRAINING (EDS)' : 'drained listeners';
}

/** The time since which a report is fresh enough to judge the node by. */
function freshSince(node: NodeProgress, seen: NodeObservation): number {
  // A report from before the ACK, or from before the node's batch started, may predate the
  // drain: new connections could have come since.
  return Math.max(seen.ackedAt ?? Number.POSITIVE_INFINITY, node.startedAt ? Date.parse(node.startedAt) : 0);
}

/** The latest report, if it was made after the ACK and after the node's batch started. */
function reportSinceAck(node: NodeProgress, seen: NodeObservation): ConnectionReading | undefined {
  const report = seen.report;
  return report && report.at >= freshSince(node, seen) ? report : undefined;
}

/** The latest host counts, if read after the ACK of the marked endpoints. */
function hostsSinceAck(node: NodeProgress, seen: NodeObservation): HostReading | undefined {
  const hosts = seen.hosts;
  return hosts && hosts.at >= freshSince(node, seen) ? hosts : undefined;
}

/**
 * A host Envoy no longer has (removed, or its cluster gone), or one a load report leaves out, has
 * nothing open to it. Load reports count no connections: those stay unknown (null). True if a
 * count changed.
 */
function measureHosts(node: NodeProgress, hosts: HostReading | undefined): boolean {
  if (!hosts || !node.endpoints) return false;
  let changed = false;
  const endpoints = node.endpoints.map((e): EndpointProgress => {
    const counts = hosts.counts(e.cluster, e.address);
    const requests = counts?.requests ?? 0;
    const connections = hosts.countsConnections ? (counts?.connections ?? 0) : null;
    if (Object.is(requests, e.requests) && Object.is(connections, e.connections)) return e;
    changed = true;
    return { ...e, requests, connections };
  });
  if (changed) node.endpoints = endpoints;
  return changed;
}

/**
 * Envoy ACKs a listener change once the new version is warming: the old one drains only after
 * that, until Envoy's drain time ends. So the node is done when a report made after the ACK
 * shows no listener version warming and none draining. The counts are the whole node's: a
 * listener changed by anything else keeps the node waiting too (never done too early).
 */
function listenersSettled(node: NodeProgress, seen: NodeObservation): boolean {
  const versions = reportSinceAck(node, seen)?.listenerVersions;
  return versions !== undefined && versions.warming === 0 && versions.draining === 0;
}

/** The listeners' connection counts from the latest fresh report; true if one changed. */
function measure(node: NodeProgress, seen: NodeObservation): boolean {
  const report = reportSinceAck(node, seen);
  if (!report) return false;
  return measureListeners(node, (name) => {
    const reported = report.connections(name);
    return reported === undefined ? 0 : reported;
  });
}

/**
 * Puts the counts `count` gives into the node's listeners; true if one changed. A changed count
 * gets a new listeners array (a working copy of the drain shares the original's).
 */
export function measureListeners(node: NodeProgress, count: (listener: string) => number | null): boolean {
  let changed = false;
  const listeners = node.listeners.map((l) => {
    const connections = count(l.name);
    if (Object.is(connections, l.connections)) return l;
    changed = true;
    return { ...l, connections };
  });
  if (changed) node.listeners = listeners;
  return changed;
}

function pastDeadline(node: NodeProgress, deadlineSeconds: number, now: number): boolean {
  return node.startedAt !== null && now - Date.parse(node.startedAt) > deadlineSeconds * 1000;
}

function timeoutReason(node: NodeProgress, spec: DrainSpec, seen: NodeObservation, deadlineSeconds: number): string {
  if (node.state === 'pushed') return `no ACK of the ${changeName(node)} within ${deadlineSeconds}s`;
  if (spec.measure === 'listener-drain') return listenerDrainTimeout(node, seen, deadlineSeconds);
  if (node.endpoints !== undefined) return hostTimeout(node.endpoints, spec, seen, deadlineSeconds);
  if (!seen.report) {
    return (
      `no connection gauges from this node within ${deadlineSeconds}s: configure Envoy's ` +
      'envoy.stat_sinks.metrics_service sink to drainplane, or an admin address'
    );
  }
  const held = node.listeners
    .filter((l) => l.connections === null || l.connections > spec.threshold)
    .map((l) => `${l.name} (${l.connections ?? 'not measured'} connections)`);
  return `still above ${spec.threshold} connection(s) after ${deadlineSeconds}s: ${held.join(', ')}`;
}

function hostTimeout(endpoints: readonly EndpointProgress[], spec: DrainSpec, seen: NodeObservation, deadlineSeconds: number): string {
  if (!seen.hosts) {
    return (
      `no host counts from this node within ${deadlineSeconds}s: drainplane reads them from Envoy's admin /clusters ` +
      '(set node metadata admin_address); the metrics service stream does not carry per-endpoint stats'
    );
  }
  const held = endpoints.filter((e) => e.requests !== 0 || e.connections === null || e.connections > spec.threshold);
  const list = held.map(
    (e) => `${e.cluster} ${e.address} (${e.requests ?? 'not measured'} request(s), ${e.connections ?? 'not measured'} connection(s))`,
  );
  // No request left, only connections: Envoy's pool keeps idle ones to a DRAINING host, and a
  // backend's keep-alive timer closes only those that carried a request (Node's starts after a
  // response), so one Envoy opened and never used stays open until the cluster's idle timeout.
  const idleOnly = held.length > 0 && held.every((e) => e.requests === 0 && e.connections !== null);
  const hint = idleOnly
    ? "; idle pooled connections only: Envoy keeps them until the backend closes them or the cluster's " +
      'common_http_protocol_options.idle_timeout (1 h by default) ends them; set a shorter idle_timeout, or a threshold'
    : '';
  return `still in use after ${deadlineSeconds}s: ${list.join(', ')}${hint}`;
}

/**
 * Why Envoy's listener drain was not seen to end. "Since the ACK" is the node's ACK of what it
 * is meant to have now: a later push (the next drain of a shutdown, say) waits for its own.
 */
function listenerDrainTimeout(node: NodeProgress, seen: NodeObservation, deadlineSeconds: number): string {
  const versions = reportSinceAck(node, seen)?.listenerVersions;
  const head = `Envoy's listener drain did not end within ${deadlineSeconds}s`;
  if (!versions) {
    return (
      `${head}: no listener_manager gauges from this node since its last ACK (configure Envoy's ` +
      'envoy.stat_sinks.metrics_service sink to drainplane, or an admin address)'
    );
  }
  return `${head}: ${versions.draining} draining and ${versions.warming} warming listener version(s) on the node (a drain lasts Envoy's --drain-time-s)`;
}

function finish(node: NodeProgress, state: NodeProgress['state'], now: number, error: string | null): void {
  node.state = state;
  node.finishedAt = new Date(now).toISOString();
  node.error = error;
}
