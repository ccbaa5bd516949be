import type { NodeIdentity } from '../../cache/node.js';
import { matchesNode } from '../node-match.js';
import type { Selector } from './model.js';

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
