/**
 * What a drain weighs, as its confirm step says it (the preview's `radius`): its share of each
 * cluster and zone it touches and of the fleet, the connections open now, and warnings where it
 * takes a whole cluster or zone at once or cannot measure some nodes. A large or irreversible
 * drain asks for a word to be typed before it starts.
 */
import { h } from './dom.js';
import { count, nodesText } from './format.js';
import type { DrainPreview } from './types.js';

type Radius = DrainPreview['radius'];

/** "12 of 40 nodes (30%)". */
export function shareText(s: { matched: number; total: number }): string {
  const percent = s.total === 0 ? 0 : Math.round((s.matched / s.total) * 100);
  return `${count(s.matched)} of ${nodesText(s.total)} (${percent}%)`;
}

function zoneName(z: { region: string; zone: string }): string {
  return [z.region, z.zone].filter(Boolean).join('/') || '(no zone)';
}

export function renderRadius(p: DrainPreview): HTMLElement {
  const r = p.radius;
  const open = `${count(r.connections.open)} ${r.connections.open === 1 ? 'connection' : 'connections'} open now`;
  return h(
    'div',
    {},
    h(
      'ul',
      { class: 'radius', 'aria-label': 'Share of the fleet' },
      r.clusters.map((c) => h('li', {}, `Cluster ${c.cluster || '(no cluster)'}: ${shareText(c)}`)),
      r.zones.map((z) => h('li', {}, `Zone ${zoneName(z)}: ${shareText(z)}`)),
      h('li', {}, `Fleet: ${shareText(r.fleet)}`),
      h('li', {}, r.connections.unknown > 0 ? `${open} (${nodesText(r.connections.unknown)} unknown)` : open),
    ),
    h(
      'ul',
      { class: 'radius-warnings warnings' },
      warnings(p).map((w) => h('li', {}, w)),
    ),
  );
}

function warnings(p: DrainPreview): string[] {
  const r = p.radius;
  const out: string[] = [];
  // With no batches every node of it stops serving together: nothing of that cluster or zone is left to take the traffic.
  if (p.spec.batch === null) {
    for (const c of r.clusters)
      if (c.total > 0 && c.matched === c.total) out.push(`Takes all of cluster ${c.cluster || '(no cluster)'} at once: no batches.`);
    for (const z of r.zones) if (z.total > 0 && z.matched === z.total) out.push(`Takes all of zone ${zoneName(z)} at once: no batches.`);
  }
  const u = r.unmeasurable;
  if (u.count > 0) {
    const more = u.count - u.nodes.length;
    out.push(
      `${nodesText(u.count)} cannot be measured: ${u.nodes.join(', ')}${more > 0 ? ` and ${count(more)} more` : ''}. ` +
        'Each holds its batch until its deadline.',
    );
  }
  return out;
}

/**
 * The word to type before a drain starts, or undefined when a click is enough: for a drain that
 * takes a whole cluster, more than half the fleet, or cannot be undone (drain-listeners). The
 * cluster's name when it touches one, else "fleet".
 */
export function typedWord(p: DrainPreview): string | undefined {
  const r: Radius = p.radius;
  const large =
    r.clusters.some((c) => c.total > 0 && c.matched === c.total) || r.fleet.matched * 2 > r.fleet.total || p.spec.method === 'drain-listeners';
  if (!large) return undefined;
  const only = r.clusters.length === 1 ? r.clusters[0]!.cluster : '';
  return only === '' ? 'fleet' : only;
}
