import type { NodeIdentity } from '../../cache/node.js';
import { actsOnListeners, isEndpointScope, type Drain, type DrainSpec } from '../drain/model.js';
import { drainSelects } from '../drain/selector.js';
import type { EndpointMark } from './overlay.js';

/** The endpoint drains acting now, each with the nodes it takes (its spec) and what it does. */
export interface EndpointDrains {
  /** Changes whenever what any of them does changes. */
  readonly key: string;
  /** The marks on one node, in drain id order. */
  marksFor(node: NodeIdentity): EndpointMark[];
}

/**
 * The endpoint drains that act (neither cancelled nor retired). They act on every node they
 * select, whether it had an entry in the drain or not: an Envoy that connects after the drain
 * ended must not send requests to a backend that is going away either.
 */
export function endpointDrains(drains: readonly Drain[]): EndpointDrains {
  const acting: { spec: DrainSpec; mark: EndpointMark }[] = [];
  for (const d of drains) {
    if (!actsOnListeners(d) || !isEndpointScope(d.spec.scope)) continue;
    const target = d.spec.scope.endpoints;
    acting.push({ spec: d.spec, mark: { drainId: d.id, target, remove: target.remove === true && d.state === 'completed' } });
  }
  acting.sort((a, b) => (a.mark.drainId < b.mark.drainId ? -1 : 1));
  return {
    key: acting.map((a) => `${a.mark.drainId}${a.mark.remove ? '-' : '~'}`).join(','),
    marksFor: (node) => acting.filter((a) => drainSelects(a.spec, node)).map((a) => a.mark),
  };
}
