/**
 * Decoding of GET /stats?format=json: `{"stats":[{"name":..,"value":..}, ...]}`, where histograms
 * come as one `{"histograms": {...}}` entry and text readouts carry string values
 * (source/server/admin/stats_render.cc).
 */

export class StatsFormatError extends Error {}

/**
 * Envoy takes `filter` as an RE2 pattern without flags, so a RegExp is sent as its source. Flags
 * that change matching cannot be carried over and are refused rather than dropped silently.
 */
export function statsFilterPattern(filter: RegExp | string): string {
  if (typeof filter === 'string') return filter;
  const unsupported = filter.flags.replace(/[gyd]/g, '');
  if (unsupported) {
    throw new RangeError(`stats filter /${filter.source}/${filter.flags}: flags "${unsupported}" are not supported`);
  }
  return filter.source;
}

/** Counters and gauges by name; histograms and text readouts are left out. */
export function parseStatsJson(json: unknown): Map<string, number> {
  const stats = (json as { stats?: unknown } | null)?.stats;
  if (!Array.isArray(stats)) throw new StatsFormatError('no "stats" array');
  const values = new Map<string, number>();
  for (const entry of stats as unknown[]) {
    if (typeof entry !== 'object' || entry === null || 'histograms' in entry) continue;
    const { name, value } = entry as { name?: unknown; value?: unknown };
    if (typeof name !== 'string') throw new StatsFormatError('a stat without a name');
    if (typeof value === 'number') values.set(name, value);
  }
  return values;
}
