/** Protocol events as the xDS server reports them, for tests that feed observers directly. */
import type { NodeIdentity } from '../../src/cache/node.js';
import type { StreamInfo } from '../../src/xds/events.js';

let lastStreamId = 0;

/** A node with nothing but its id set. */
export function nodeIdentity(id: string, cluster = 'c'): NodeIdentity {
  return { id, cluster, metadata: {}, locality: { region: '', zone: '', subZone: '' }, userAgentName: '', userAgentVersion: '' };
}

/** A new SotW ADS stream of the node `id`. */
export function streamInfo(id: string, extra: Partial<StreamInfo> = {}): StreamInfo {
  return { streamId: ++lastStreamId, node: nodeIdentity(id), protocol: 'sotw', aggregated: true, peer: 'test', ...extra };
}
