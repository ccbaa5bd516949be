/**
 * Active downstream connections per listener address and per HTTP connection manager, the live
 * signals that a drain is done (`server.total_connections` only refreshes at stats flush).
 */

export interface ConnectionGauges {
  /** `listener.<address>.downstream_cx_active`, keyed by `<address>` (e.g. "0.0.0.0_10000"). */
  readonly listeners: Map<string, number>;
  /** `http.<stat_prefix>.downstream_cx_active`, keyed by `<stat_prefix>`. */
  readonly httpPrefixes: Map<string, number>;
}

/** The /stats filter that returns every candidate; names are sorted out below. */
export const CONNECTION_GAUGES_FILTER = '^(listener|http)\\..*\\.downstream_cx_active$';

const SUFFIX = '.downstream_cx_active';
// The admin listener's own connections include the one asking; per-worker copies would count
// every connection twice.
const WORKER = /\.worker_\d+$/;

export function connectionGauges(stats: ReadonlyMap<string, number>): ConnectionGauges {
  const listeners = new Map<string, number>();
  const httpPrefixes = new Map<string, number>();
  for (const [name, value] of stats) {
    if (!name.endsWith(SUFFIX)) continue;
    const dot = name.indexOf('.');
    const scope = name.slice(0, dot);
    // Listener addresses contain dots ("0.0.0.0_10000"), so the key is everything in between.
    const key = name.slice(dot + 1, -SUFFIX.length);
    if (key === '' || key === 'admin' || WORKER.test(key)) continue;
    if (scope === 'listener') listeners.set(key, value);
    else if (scope === 'http') httpPrefixes.set(key, value);
  }
  return { listeners, httpPrefixes };
}
