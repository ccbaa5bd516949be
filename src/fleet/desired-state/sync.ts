import type { Snapshot } from '../../cache/snapshot.js';
import { TYPE_SHORT_NAME, type XdsTypeUrl } from '../../resource/type-urls.js';
import type { NodeStatus } from '../registry.js';

/** Where a node stands with the version of one type it is meant to have now. */
export interface TypeSync {
  /** The version it is meant to have. */
  readonly version: string;
  /** When it ACKed that version; undefined while it has not. */
  readonly ackedAt: string | undefined;
  /** Envoy's error, when its last NACK was of that version. */
  readonly rejected: string | undefined;
}

/** How `status` (what the node reported) stands against `wanted` (its desired snapshot). */
export function typeSync(wanted: Snapshot | undefined, status: NodeStatus | undefined, typeUrl: XdsTypeUrl): TypeSync | undefined {
  if (!wanted) return undefined;
  const version = wanted.get(typeUrl).version;
  const reported = status?.types[TYPE_SHORT_NAME[typeUrl]];
  return {
    version,
    ackedAt: reported?.acked?.version === version ? reported.acked.at : undefined,
    rejected: reported?.lastNack?.version === version ? reported.lastNack.message : undefined,
  };
}
