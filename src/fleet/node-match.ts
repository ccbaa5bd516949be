import type { NodeIdentity } from '../cache/node.js';

/** How a config group picks its nodes: every given criterion must hold. */
export interface NodeMatch {
  /** Envoy's node.cluster (--service-cluster). */
  readonly cluster?: string;
  /** Node ids; when given, the node's id must be one of them. */
  readonly ids?: readonly string[];
  /** Node metadata key/values that must all be equal (string comparison of scalars). */
  readonly metadata?: Readonly<Record<string, string>>;
}

export function matchesNode(match: NodeMatch, node: NodeIdentity): boolean {
  if (match.cluster !== undefined && match.cluster !== node.cluster) return false;
  if (match.ids !== undefined && !match.ids.includes(node.id)) return false;
  for (const [key, want] of Object.entries(match.metadata ?? {})) {
    const have = node.metadata[key];
    if (have === undefined || have === null || typeof have === 'object') return false;
    // Struct JSON without null, lists and objects: a string, a number or a boolean.
    const scalar = have as string | number | boolean;
    if (String(scalar) !== want) return false;
  }
  return true;
}
