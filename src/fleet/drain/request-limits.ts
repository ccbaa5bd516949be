/**
 * The bounds of the numbers in a drain request. Every duration and count has an upper bound:
 * a drain lives in timers, dates and stored records, and a number no operator means (1e300
 * seconds) would reach them as an invalid date or an overflowing timer. The API's schema and
 * the domain check (for drains made without HTTP) both use these.
 */

/** The longest a drain waits for anything: 7 days. */
export const MAX_DRAIN_SECONDS = 604_800;

/** The largest count in a drain request (connections, nodes per batch). */
export const MAX_DRAIN_COUNT = 1_000_000;

/** Why `value` is not a duration in seconds a drain may take, or undefined when it is one. */
export function secondsProblem(value: number, zero: 'allowed' | 'refused'): string | undefined {
  const low = zero === 'allowed' ? value >= 0 : value > 0;
  if (!low) return `must be ${zero === 'allowed' ? '>=' : '>'} 0, got ${value}`;
  if (!(value <= MAX_DRAIN_SECONDS)) return `must be at most ${MAX_DRAIN_SECONDS} (7 days), got ${value}`;
  return undefined;
}

/** Why `value` is not a whole count of at least `min`, or undefined when it is one. */
export function countProblem(value: number, min: 0 | 1): string | undefined {
  if (!Number.isInteger(value) || value < min) return `must be an integer >= ${min}, got ${value}`;
  if (value > MAX_DRAIN_COUNT) return `must be at most ${MAX_DRAIN_COUNT}, got ${value}`;
  return undefined;
}

/**
 * The most nodes one drain holds. Nodes that connect while a drain runs join it if the selector
 * takes them, and node ids (and clusters) cost an xDS client nothing to invent: without a bound
 * a client could grow a drain's stored record, rewritten on every save, one invented id at a
 * time. Twice the largest fleet drainplane is measured with.
 */
export const MAX_DRAIN_NODES = 20_000;
