/** Messages between the hostile-client soak and its attacker processes (IPC). */

/** The attacks, each run by one attacker process or spread over several. */
export const ATTACK_KINDS = ['metadata', 'nack', 'names', 'slow', 'stale', 'nodes-api'] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

export interface AttackPlan {
  /** Names this attacker in the node ids it invents, so that attackers never share one. */
  readonly attacker: number;
  readonly kinds: readonly AttackKind[];
  readonly xdsPort: number;
  readonly apiUrl: string;
  /** The attack window: each kind spreads its target over it, and stops at its end. */
  readonly durationMs: number;
  /**
   * Per kind, the operations to perform in the window: connections (metadata), NACKs (nack),
   * requests (names, stale), streams held open at once (slow); none for nodes-api, which
   * repeats its request for the whole window.
   */
  readonly targets: Readonly<Partial<Record<AttackKind, number>>>;
  /** node.cluster values the invented nodes claim (groups of the config). */
  readonly clusters: readonly string[];
  /** node.cluster of the group with the large listeners, which slow streams claim. */
  readonly bulkCluster: string;
  /** Size of the metadata value and of the NACK message, in bytes (one buffer, reused). */
  readonly blobBytes: number;
  /** Resource names in each request of the names attack. */
  readonly namesPerRequest: number;
  /** GET /v1/nodes loops, each one request at a time. */
  readonly nodesApiClients: number;
}

export type ToAttacker = { readonly op: 'start'; readonly plan: AttackPlan } | { readonly op: 'stop' };

/**
 * What an attacker did so far: counters by name, `kind.what` (summed over attackers), except
 * names ending in `Max`, which hold the largest value seen.
 */
export type AttackCounts = Record<string, number>;

export type FromAttacker =
  | { readonly op: 'progress'; readonly counts: AttackCounts }
  | { readonly op: 'done'; readonly counts: AttackCounts }
  | { readonly op: 'failure'; readonly message: string };

/** Adds b into a: sums, except `...Max` counters, which keep the larger value. */
export function mergeCounts(a: AttackCounts, b: AttackCounts): AttackCounts {
  const out = { ...a };
  for (const [key, value] of Object.entries(b)) out[key] = key.endsWith('Max') ? Math.max(out[key] ?? 0, value) : (out[key] ?? 0) + value;
  return out;
}
