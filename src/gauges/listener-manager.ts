/**
 * Envoy's listener manager gauges: how many listener versions warm and how many drain, on the
 * whole node. They are the signal that a modify drain is over: old and new versions of a
 * listener share their `listener.<X>.*` stats, so no connection gauge tells the old version's
 * connections apart, while the old version stays in `draining_listeners_` (and in
 * `total_listeners_draining`) until Envoy's drain time ends (listener_manager_impl.cc,
 * drainListener(), updateWarmingActiveGauges()).
 *
 * `total_listeners_warming` is set whenever a listener is added, so every Envoy with dynamic
 * listeners reports it; `total_listeners_draining` is set only once a listener first drains, and
 * the metrics_service sink leaves never-set gauges out: absent, it is 0.
 */

export interface ListenerManagerGauges {
  /** New listener versions not yet serving (waiting for their routes, secrets, ...). */
  readonly warming: number;
  /** Old listener versions (modified or removed) whose connections are still being drained. */
  readonly draining: number;
}

const WARMING = 'listener_manager.total_listeners_warming';
const DRAINING = 'listener_manager.total_listeners_draining';

export function isListenerManagerGauge(name: string): boolean {
  return name === WARMING || name === DRAINING;
}

/** Reads the gauges from full stat names; undefined when the warming gauge is missing (not reported at all). */
export function listenerManagerGauges(stats: ReadonlyMap<string, number>): ListenerManagerGauges | undefined {
  const warming = stats.get(WARMING);
  if (warming === undefined) return undefined;
  return { warming, draining: stats.get(DRAINING) ?? 0 };
}
