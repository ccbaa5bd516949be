/**
 * What a drain cannot do for TCP proxy connections, said before it starts (the preview and the
 * drain carry the same warnings). A TCP connection counts in its listener's
 * `downstream_cx_active` like any other, so it holds the drain's connection count until it ends;
 * how it ends depends on the node's Envoy (../tcp-proxy.ts):
 *  - without `check_drain_close` (Envoy before 1.39, a version drainplane cannot read, or the file
 *    sets it false), Envoy never tells the connection: it is cut, unflushed, when Envoy's drain
 *    time ends;
 *  - with it, a connection is closed (flushed) at its next read or write, but one that neither
 *    reads nor writes still lasts until the drain time ends.
 */
import type { NodeIdentity } from '../../cache/node.js';
import type { FleetConfig } from '../config.js';
import { checksDrainClose } from '../tcp-proxy.js';
import { nothingToDrain, type PhaseProgress } from './model.js';
import { nodeListeners } from './plan.js';

const AT_DRAIN_TIME =
  "until Envoy's drain time (--drain-time-s, 600 s by default) ends and Envoy cuts it; until then it counts as an " +
  'active connection and holds its node (give deadlineSeconds above the drain time, or a threshold)';

/** The warnings for the TCP proxy listeners the phases drain on the matched nodes; none without such listeners. */
export function tcpDrainWarnings(phases: readonly PhaseProgress[], matched: readonly NodeIdentity[], config: FleetConfig): string[] {
  // Most fleets have no TCP proxy listener: then no node needs looking at.
  if (!config.groups.some((g) => g.listeners.some((l) => l.tcpProxy))) return [];
  const byId = new Map(matched.map((n) => [n.id, n]));
  const silent = new Set<string>();
  const silentNodes = new Set<string>();
  const closing = new Set<string>();
  const closingNodes = new Set<string>();
  for (const phase of phases) {
    for (const entry of phase.nodes) {
      const node = byId.get(entry.nodeId);
      if (!node || nothingToDrain(entry)) continue;
      const infos = nodeListeners(config, node);
      const checks = checksDrainClose(node);
      for (const { name } of entry.listeners) {
        const tcp = infos.find((l) => l.name === name)?.tcpProxy;
        if (!tcp) continue;
        if (checks && tcp.drainCloseOff < tcp.filters) {
          closing.add(name);
          closingNodes.add(node.id);
        }
        if (!checks || tcp.drainCloseOff > 0) {
          silent.add(name);
          silentNodes.add(node.id);
        }
      }
    }
  }
  const warnings: string[] = [];
  if (silent.size > 0) {
    warnings.push(
      `TCP proxy listeners ${list(silent)} on ${count(silentNodes.size)} get no drain signal (Envoy before 1.39, ` +
        'a version drainplane cannot read, or check_drain_close: false): each of their TCP connections stays open ' +
        AT_DRAIN_TIME,
    );
  }
  if (closing.size > 0) {
    warnings.push(
      `TCP proxy listeners ${list(closing)} on ${count(closingNodes.size)} close a TCP connection, flushing its data, ` +
        'at its next read or write once the drain starts (check_drain_close, Envoy 1.39 and later); an idle one that ' +
        `neither reads nor writes stays open ${AT_DRAIN_TIME}`,
    );
  }
  return warnings;
}

function list(names: ReadonlySet<string>): string {
  return [...names].sort().join(', ');
}

function count(nodes: number): string {
  return nodes === 1 ? '1 node' : `${nodes} nodes`;
}
