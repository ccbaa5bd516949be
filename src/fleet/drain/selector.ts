import type { NodeIdentity } from '../../cache/node.js';
import { matchesNode } from '../node-match.js';
import type { FieldError } from './field-error.js';
import { isEndpointScope, type DrainSpec, type Selector } from './model.js';

export function isEmptySelector(s: Selector): boolean {
  const locality = s.locality ?? {};
  return (
    s.ids === undefined &&
    s.cluster === undefined &&
    Object.keys(s.metadata ?? {}).length === 0 &&
    locality.region === undefined &&
    locality.zone === undefined &&
    locality.subZone === undefined
  );
}

const EMPTY = 'must not be empty: it would match every node that has no value there';

/**
 * The criteria of a selector that are given but say nothing: an empty string (an id, the
 * cluster, a metadata key or value, a locality field) or a locality with no field. Node
 * identities leave what they lack as "", so such a criterion would widen the selector to every
 * node without that value, which with nothing else given is the whole fleet.
 */
export function selectorProblems(s: Selector): FieldError[] {
  const problems: FieldError[] = [];
  const empty = (field: string): void => void problems.push({ field: `selector.${field}`, message: EMPTY });
  if (s.ids !== undefined) {
    if (s.ids.length === 0) problems.push({ field: 'selector.ids', message: 'must name at least one node id' });
    s.ids.forEach((id, i) => id === '' && empty(`ids[${i}]`));
  }
  if (s.cluster === '') empty('cluster');
  for (const [key, value] of Object.entries(s.metadata ?? {})) {
    if (key === '') problems.push({ field: 'selector.metadata', message: 'a key must not be empty' });
    else if (value === '') empty(`metadata.${key}`);
  }
  if (s.locality !== undefined) {
    const given = (['region', 'zone', 'subZone'] as const).filter((f) => s.locality![f] !== undefined);
    if (given.length === 0) problems.push({ field: 'selector.locality', message: 'must name at least one of region, zone, subZone' });
    for (const f of given) if (s.locality[f] === '') empty(`locality.${f}`);
  }
  return problems;
}

/** Every given criterion must hold. An empty selector matches nothing (drains never take "all" by accident). */
export function selectorMatches(s: Selector, node: NodeIdentity): boolean {
  if (isEmptySelector(s)) return false;
  const l = s.locality ?? {};
  if (l.region !== undefined && l.region !== node.locality.region) return false;
  if (l.zone !== undefined && l.zone !== node.locality.zone) return false;
  if (l.subZone !== undefined && l.subZone !== node.locality.subZone) return false;
  return matchesNode(
    {
      ...(s.cluster !== undefined && { cluster: s.cluster }),
      ...(s.ids !== undefined && { ids: s.ids }),
      ...(s.metadata !== undefined && { metadata: s.metadata }),
    },
    node,
  );
}

/** Whether a drain takes this node: its selector matches; an endpoint drain without one takes every node. */
export function drainSelects(spec: Pick<DrainSpec, 'selector' | 'scope'>, node: NodeIdentity): boolean {
  if (isEndpointScope(spec.scope) && isEmptySelector(spec.selector)) return true;
  return selectorMatches(spec.selector, node);
}
