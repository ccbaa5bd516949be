/**
 * How one node's part of a drain phase moves on, judged from what the node itself reports:
 * its ACK or NACK of the drained listener set, and its listeners' connection gauges.
 * Pure functions of their inputs, so each rule is tested on its own.
 */
import type { DrainSpec, NodeProgress } from './model.js';

/** What drainplane knows of the node now. */
export interface NodeObservation {
  /** The node ACKed the listener version it is meant to have (the drained one). */
  readonly acked: boolean;
  /** The node NACKed that version: Envoy's error text. */
  readonly rejected: string | undefined;
  /** When the ACK was seen (epoch ms), for judging whether a gauge report is fresh. */
  readonly ackedAt: number | undefined;
  /** The latest connection gauges, if any were ever reported. */
  readonly report: ConnectionReading | undefined;
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
}

/** Where a node stands, and what changed. Mutates `node`; returns true if anything did. */
export function advanceNode(node: NodeProgress, spec: DrainSpec, seen: NodeObservation, now: number): boolean {
  const before = fingerprint(node);
  if (node.state === 'pushed') {
    if (seen.rejected !== undefined) finish(node, 'failed', now, `the node rejected the drained listeners: ${seen.rejected}`);
    else if (seen.acked) node.state = 'acked';
  }
  if (node.state === 'acked') {
    if (spec.measure === 'ack') {
      finish(node, 'drained', now, null);
    } else {
      measure(node, seen);
      if (node.listeners.every((l) => l.connections !== null && l.connections <= spec.threshold)) {
        finish(node, 'drained', now, null);
      }
    }
  }
  if ((node.state === 'pushed' || node.state === 'acked') && pastDeadline(node, spec, now)) {
    finish(node, 'timed_out', now, timeoutReason(node, spec, seen));
  }
  return fingerprint(node) !== before;
}

/** What a progress change can touch: the state and the measured connections. */
function fingerprint(node: NodeProgress): string {
  return `${node.state}|${node.listeners.map((l) => l.connections).join(',')}`;
}

function measure(node: NodeProgress, seen: NodeObservation): void {
  const report = seen.report;
  // A report from before the ACK, or from before the node's batch started, may predate the
  // drain: new connections could have come since.
  const since = Math.max(seen.ackedAt ?? Number.POSITIVE_INFINITY, node.startedAt ? Date.parse(node.startedAt) : 0);
  if (!report || report.at < since) return;
  const listeners = node.listeners;
  for (const l of listeners) {
    const measured = report.connections(l.name);
    l.connections = measured === undefined ? 0 : measured;
  }
}

function pastDeadline(node: NodeProgress, spec: DrainSpec, now: number): boolean {
  return node.startedAt !== null && now - Date.parse(node.startedAt) > spec.deadlineSeconds * 1000;
}

function timeoutReason(node: NodeProgress, spec: DrainSpec, seen: NodeObservation): string {
  if (node.state === 'pushed') return `no ACK of the drained listeners within ${spec.deadlineSeconds}s`;
  if (!seen.report) {
    return (
      `no connection gauges from this node within ${spec.deadlineSeconds}s: configure Envoy's ` +
      'envoy.stat_sinks.metrics_service sink to drainplane, or an admin address'
    );
  }
  const held = node.listeners
    .filter((l) => l.connections === null || l.connections > spec.threshold)
    .map((l) => `${l.name} (${l.connections ?? 'not measured'} connections)`);
  return `still above ${spec.threshold} connection(s) after ${spec.deadlineSeconds}s: ${held.join(', ')}`;
}

function finish(node: NodeProgress, state: NodeProgress['state'], now: number, error: string | null): void {
  node.state = state;
  node.finishedAt = new Date(now).toISOString();
  node.error = error;
}
