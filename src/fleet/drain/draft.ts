/**
 * A drain worked out before anything is stored or pushed: the spec with its defaults, the
 * connected nodes it selects and each phase's entries. Starting a drain and previewing one
 * (a dry run) go through this same function, so a preview shows exactly what a start would take.
 */
import type { NodeIdentity } from '../../cache/node.js';
import type { FleetConfig } from '../config.js';
import type { NodeStatus } from '../registry.js';
import { configHasTarget } from '../endpoints/catalog.js';
import { isEndpointScope, nothingToDrain, type DrainSpec, type EndpointTarget, type NodeProgress, type PhaseProgress } from './model.js';
import { compareKeys, compareNatural, nodeOrderKey } from '../node-order.js';
import { batchLimit, phaseEntry, phaseNames } from './plan.js';
import { MAX_DRAIN_NODES } from './request-limits.js';
import { drainSelects } from './selector.js';
import { drainSpecFrom, type DrainRequest, type FieldError } from './spec.js';
import { tcpDrainWarnings } from './tcp-warnings.js';

export interface DrainDraft {
  readonly spec: DrainSpec;
  /** The connected nodes the selector matches, in the registry's order. */
  readonly matched: readonly NodeIdentity[];
  /** Every phase pending, with an entry per matched node (drained at once where it has no listener in the phase). */
  readonly phases: PhaseProgress[];
  readonly warnings: string[];
}

/** Why a node's Envoy admin API cannot be used, or undefined when it can; absent: no admin client. */
export type AdminAvailability = ((node: NodeIdentity) => string | undefined) | undefined;

export function draftDrain(
  request: DrainRequest,
  nodes: Iterable<NodeStatus>,
  config: FleetConfig,
  adminUnavailable: AdminAvailability,
): { draft: DrainDraft } | { errors: readonly FieldError[] } {
  const parsed = drainSpecFrom(request);
  if ('errors' in parsed) return parsed;
  const { spec } = parsed;
  const matched: NodeIdentity[] = [];
  for (const n of nodes) if (n.connected && drainSelects(spec, n.identity)) matched.push(n.identity);
  // An endpoint drain holds only the nodes that hold its endpoints: counted there.
  if (isEndpointScope(spec.scope)) return draftEndpointDrain(spec, spec.scope.endpoints, matched, config);
  if (matched.length > MAX_DRAIN_NODES) return { errors: [tooManyNodes('selector', matched.length)] };
  if (spec.method === 'healthcheck-fail' || spec.method === 'drain-listeners') {
    const errors = matched.flatMap((n) => {
      const why = adminUnavailable ? adminUnavailable(n) : 'no Envoy admin client is configured';
      return why ? [{ field: 'method', message: `node ${n.id}: ${why}` }] : [];
    });
    if (errors.length > 0) return { errors };
  }
  const phases: PhaseProgress[] = phaseNames(spec).map((name) => ({
    name,
    state: 'pending',
    startedAt: null,
    finishedAt: null,
    nodes: matched.map((n) => phaseEntry(spec, name, config, n)),
  }));
  if (typeof spec.scope === 'object' && 'listeners' in spec.scope && matched.length > 0 && phases[0]!.nodes.every(nothingToDrain)) {
    return {
      errors: [{ field: 'scope.listeners', message: `no matched node has a listener named ${spec.scope.listeners.join(', ')}` }],
    };
  }
  const warnings: string[] = [];
  if (matched.length === 0) {
    warnings.push('no connected node matches the selector; nodes that connect while the drain runs join it');
  }
  warnings.push(...tcpDrainWarnings(phases, matched, config));
  return { draft: { spec, matched, phases, warnings } };
}

/**
 * An endpoint drain takes the selected nodes whose EDS holds its endpoints; a target no group of
 * the config holds is refused (a typo would otherwise complete at once, draining nothing).
 */
function draftEndpointDrain(
  spec: DrainSpec,
  target: EndpointTarget,
  selected: readonly NodeIdentity[],
  config: FleetConfig,
): { draft: DrainDraft } | { errors: readonly FieldError[] } {
  if (!configHasTarget(config, target)) {
    return { errors: [{ field: 'endpoints', message: "no endpoint of the running config's EDS (its endpoints sections, of EDS clusters) matches" }] };
  }
  const matched: NodeIdentity[] = [];
  const nodes: NodeProgress[] = [];
  for (const n of selected) {
    const entry = phaseEntry(spec, 'endpoints', config, n);
    if (nothingToDrain(entry)) continue;
    matched.push(n);
    nodes.push(entry);
  }
  if (matched.length > MAX_DRAIN_NODES) return { errors: [tooManyNodes('endpoints', matched.length)] };
  const warnings = matched.length === 0 ? ['no connected node holds these endpoints; nodes that connect later get them marked DRAINING'] : [];
  return { draft: { spec, matched, phases: [{ name: 'endpoints', state: 'pending', startedAt: null, finishedAt: null, nodes }], warnings } };
}

function tooManyNodes(field: string, count: number): FieldError {
  return { field, message: `matches ${count} connected nodes; a drain holds at most ${MAX_DRAIN_NODES} (split it by cluster or locality)` };
}

/** A draft as a preview shows it: how many nodes, the first ids, where they are, and per phase what it takes. */
export function describeDraft(draft: DrainDraft, maxIds = 100) {
  const groups = new Map<string, { order: string[]; cluster: string; region: string; zone: string; subZone: string; nodes: number }>();
  for (const n of draft.matched) {
    const order = nodeOrderKey(n).slice(0, 4);
    const key = order.join('\0');
    const group = groups.get(key);
    if (group) group.nodes += 1;
    else groups.set(key, { order, cluster: n.cluster, ...n.locality, nodes: 1 });
  }
  return {
    spec: draft.spec,
    matched: draft.matched.length,
    nodes: draft.matched
      .map((n) => n.id)
      .sort(compareNatural)
      .slice(0, maxIds),
    groups: [...groups.values()].sort((a, b) => compareKeys(a.order, b.order)).map(({ order: _, ...g }) => g),
    phases: draft.phases.map((p) => {
      const draining = p.nodes.filter((n) => !nothingToDrain(n)).length;
      return {
        name: p.name,
        nodes: draining,
        listeners: [...new Set(p.nodes.flatMap((n) => n.listeners.map((l) => l.name)))].sort(),
        batches: draining === 0 ? 0 : Math.ceil(draining / Math.min(draining, batchLimit(draft.spec, p))),
      };
    }),
    warnings: draft.warnings,
  };
}
