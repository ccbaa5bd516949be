/**
 * Turning a drain spec into phases over concrete nodes and listeners: which listeners of
 * which node each phase takes, by role, and which nodes a batch starts.
 */
import type { NodeIdentity } from '../../cache/node.js';
import type { FleetConfig, ListenerInfo } from '../config.js';
import { groupOf } from '../desired-state/group-snapshots.js';
import { targetedEndpoints } from '../endpoints/catalog.js';
import type { DrainSpec, EndpointProgress, EndpointTarget, NodeProgress, PhaseName, PhaseProgress } from './model.js';
import { isEndpointScope, NODE_FINISHED, nothingToDrain } from './model.js';

/** The phases a scope runs, in order: ingress before egress, so the app can still call out. */
export function phaseNames(spec: DrainSpec): PhaseName[] {
  if (isEndpointScope(spec.scope)) return ['endpoints'];
  if (typeof spec.scope === 'object') return ['listeners'];
  if (spec.scope === 'all') return ['ingress', 'egress'];
  return [spec.scope];
}

/**
 * The node's listeners a phase drains. Listeners with no traffic_direction go with egress
 * under scope "all" (drained last, as the safe choice) and are skipped by scope ingress or
 * egress, as the config warning says.
 */
export function listenersInPhase(spec: DrainSpec, phase: PhaseName, listeners: readonly ListenerInfo[]): string[] {
  switch (phase) {
    case 'ingress':
      return listeners.filter((l) => l.role === 'ingress').map((l) => l.name);
    case 'egress':
      return listeners.filter((l) => l.role === 'egress' || (spec.scope === 'all' && l.role === 'unspecified')).map((l) => l.name);
    case 'listeners': {
      const wanted = new Set(typeof spec.scope === 'object' && 'listeners' in spec.scope ? spec.scope.listeners : []);
      return listeners.filter((l) => wanted.has(l.name)).map((l) => l.name);
    }
    case 'endpoints':
      return [];
  }
}

export function nodeListeners(config: FleetConfig, node: NodeIdentity): readonly ListenerInfo[] {
  return groupOf(config, node)?.listeners ?? [];
}

/**
 * A node's entry in a phase. A node without a listener in the phase's scope still gets one,
 * drained from the start with a note saying why: the phase has nothing to wait for on it, and
 * the drain shows every node it took.
 */
export function phaseEntry(spec: DrainSpec, phase: PhaseName, config: FleetConfig, node: NodeIdentity): NodeProgress {
  const names = listenersInPhase(spec, phase, nodeListeners(config, node));
  const endpoints = isEndpointScope(spec.scope) ? nodeEndpoints(config, node, spec.scope.endpoints) : [];
  const entry: NodeProgress = {
    nodeId: node.id,
    state: 'waiting',
    batch: null,
    startedAt: null,
    finishedAt: null,
    listeners: names.map((name) => ({ name, connections: null })),
    ...(phase === 'endpoints' && { endpoints }),
    error: null,
  };
  if (!nothingToDrain(entry)) return entry;
  return { ...entry, state: 'drained', note: `nothing to drain: ${missingListeners(spec, phase)} on this node` };
}

/** The node's endpoints a target takes, once each (an address may be listed in two localities). */
function nodeEndpoints(config: FleetConfig, node: NodeIdentity, target: EndpointTarget): EndpointProgress[] {
  const seen = new Map<string, EndpointProgress>();
  for (const e of targetedEndpoints(groupOf(config, node), target)) {
    const key = `${e.cluster}\0${e.address}`;
    if (!seen.has(key)) seen.set(key, { cluster: e.cluster, address: e.address, requests: null, connections: null });
  }
  return [...seen.values()];
}

function missingListeners(spec: DrainSpec, phase: PhaseName): string {
  switch (phase) {
    case 'ingress':
      return 'no ingress listener (traffic_direction INBOUND)';
    case 'egress':
      return spec.scope === 'all' ? 'no egress listener (traffic_direction OUTBOUND or unset)' : 'no egress listener (traffic_direction OUTBOUND)';
    case 'listeners':
      return `no listener named ${typeof spec.scope === 'object' && 'listeners' in spec.scope ? spec.scope.listeners.join(', ') : ''}`;
    case 'endpoints':
      return 'no endpoint the drain takes in its EDS';
  }
}

/** How many nodes of a phase may drain at once. */
export function batchLimit(spec: DrainSpec, phase: PhaseProgress): number {
  if (!spec.batch) return Number.POSITIVE_INFINITY;
  if ('size' in spec.batch) return spec.batch.size;
  // A percent of the nodes that have something to drain: the others never take a place in a batch.
  let draining = 0;
  for (const n of phase.nodes) if (!nothingToDrain(n)) draining += 1;
  return Math.max(1, Math.floor((draining * spec.batch.percent) / 100));
}

/**
 * Starts the next batch when the current one is over (every node of it finished), or, for a
 * node that joined late, when the running batch has room. Returns the nodes started.
 */
export function startBatch(spec: DrainSpec, phase: PhaseProgress, now: number): NodeProgress[] {
  // One pass: ticks run this over every node of a fleet-wide phase.
  let current = 0;
  let inCurrent = 0;
  let busy = 0;
  const waiting: NodeProgress[] = [];
  for (const n of phase.nodes) {
    const batch = n.batch ?? 0;
    if (batch > current) [current, inCurrent, busy] = [batch, 0, 0];
    if (batch === current && current > 0) {
      inCurrent += 1;
      if (!NODE_FINISHED.has(n.state)) busy += 1;
    }
    if (n.state === 'waiting') waiting.push(n);
  }
  if (waiting.length === 0) return [];
  const limit = batchLimit(spec, phase);
  let batch: number;
  let room: number;
  if (current > 0 && busy > 0) {
    batch = current; // a late joiner may fill the running batch up to its limit
    room = limit - inCurrent;
  } else {
    batch = current + 1;
    room = limit;
  }
  const started = waiting.slice(0, Math.max(0, room));
  const at = new Date(now).toISOString();
  for (const n of started) {
    n.state = 'pushed';
    n.batch = batch;
    n.startedAt = at;
  }
  return started;
}
