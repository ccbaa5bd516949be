import { actsOnListeners, isEndpointScope, nothingToDrain, TERMINAL, type Drain } from './model.js';

/** How many finished drains are kept as history, and for how long. */
export interface Retention {
  /** At most this many are kept: the newest. */
  readonly keep: number;
  /** Those that finished longer ago than this go, however few there are. */
  readonly maxAgeSeconds: number;
}

export const DEFAULT_RETENTION: Retention = { keep: 100, maxAgeSeconds: 30 * 24 * 3600 };

/**
 * The drains to forget: finished ones that hold nothing (cancelled or retired, so their nodes
 * have their listeners back; or with nothing to drain on any node), beyond the newest `keep`
 * of those or finished longer than `maxAgeSeconds` ago. A finished drain that still holds a
 * node drained (a completed remove, a failed health check) is never forgotten: it is state,
 * and cancelling it is how the node gets its listeners back.
 */
export function expiredDrains(drains: Iterable<Drain>, now: number, retention: Retention): Drain[] {
  const history = [...drains]
    .filter((d) => TERMINAL.has(d.state) && d.finishedAt !== null && holdsNothing(d))
    .sort((a, b) => (a.finishedAt! < b.finishedAt! ? 1 : a.finishedAt! > b.finishedAt! ? -1 : 0));
  const cutoff = now - retention.maxAgeSeconds * 1000;
  return history.filter((d, i) => i >= retention.keep || Date.parse(d.finishedAt!) < cutoff);
}

/** An endpoint drain holds its endpoints on every node that carries them, with a node entry or not. */
function holdsNothing(drain: Drain): boolean {
  if (isEndpointScope(drain.spec.scope)) return !actsOnListeners(drain);
  return !actsOnListeners(drain) || drain.phases.every((p) => p.nodes.every(nothingToDrain));
}
