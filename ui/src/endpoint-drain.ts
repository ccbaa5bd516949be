/**
 * How an endpoint (upstream) drain reads: its target in the drain's header, and per Envoy node
 * each backend endpoint it drains there, with the requests and connections that Envoy still has
 * open to it. Its nodes are the Envoys whose EDS holds the endpoints; nothing of theirs drains.
 */
import { connectionChart } from './chart.js';
import { h } from './dom.js';
import { count, labelCriteria, localityCriteria, selectorText } from './format.js';
import { nodeCells, nodesCaption } from './node-cells.js';
import type { DrainDigest, DrainSpec, EndpointTarget, NodeDigest, PhaseDigest } from './types.js';

export function endpointTarget(spec: DrainSpec): EndpointTarget | undefined {
  const scope = spec.scope;
  return typeof scope === 'object' && 'endpoints' in scope ? scope.endpoints : undefined;
}

/** The header's facts: what it targets (each criterion given), on which Envoys, and when it is done. */
export function endpointFacts(spec: DrainSpec, t: EndpointTarget): [string, string][] {
  const locality = localityCriteria(t);
  const labels = labelCriteria(t);
  return [
    ['Drains', 'backend endpoints (upstream), DRAINING in EDS'],
    ['Addresses', t.addresses?.join(', ') ?? 'any'],
    ...(t.cluster !== undefined ? [['Cluster', t.cluster] as [string, string]] : []),
    ...(locality ? [['Locality', locality.join(', ')] as [string, string]] : []),
    ...(labels ? [['Labels', labels.join(', ')] as [string, string]] : []),
    ['Envoys', selectorText(spec.selector) || 'every node whose EDS holds them'],
    ['Drained at', spec.measure === 'ack' ? 'the EDS ACK' : `the EDS ACK, then 0 requests and ≤ ${spec.threshold} connection(s) to the endpoint`],
    ['Then', t.remove === true ? 'left out of EDS until cancelled' : 'kept DRAINING until cancelled'],
  ];
}

/** `rows`: the phase's nodes worth a row (those waiting for their batch left out). */
export function renderEndpointNodes(d: DrainDigest, p: PhaseDigest, rows: readonly NodeDigest[]): HTMLElement {
  const col = (label: string, cls = '') => h('th', { scope: 'col', class: cls }, label);
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'drain-nodes endpoint-nodes' },
      h('caption', {}, nodesCaption('Envoys holding the endpoints', rows.length, p.total - (p.counts.waiting ?? 0))),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          col('Node'),
          col('State'),
          col('Endpoint'),
          col('Requests', 'num'),
          col('Connections', 'num'),
          col('Over time'),
          col('Holding the drain'),
          col('Deadline'),
        ),
      ),
      rows.map((n) => renderNodeEndpoints(n, d.state !== 'running')),
    ),
  );
}

/** One row per endpoint; the node's own cells span them. */
function renderNodeEndpoints(n: NodeDigest, drainEnded: boolean): HTMLElement {
  const endpoints = n.endpoints ?? [];
  const rows = Math.max(1, endpoints.length);
  const cells = nodeCells(n, drainEnded, rows);
  const span = rows > 1 ? rows : undefined;
  const until = n.finishedAt ? Date.parse(n.finishedAt) : Date.now();
  const node = [h('th', { scope: 'rowgroup', rowspan: span }, h('span', { class: 'id' }, n.nodeId)), cells.state];
  const nodeAfter = [h('td', { rowspan: span }, connectionChart(n.history, until)), cells.why, cells.deadline];
  if (endpoints.length === 0) {
    return h(
      'tbody',
      { 'data-node': n.nodeId },
      h('tr', {}, node, h('td', {}, '–'), h('td', { class: 'num' }, '–'), h('td', { class: 'num' }, '–'), nodeAfter),
    );
  }
  return h(
    'tbody',
    { 'data-node': n.nodeId },
    endpoints.map((e, i) =>
      h(
        'tr',
        { 'data-endpoint': e.address },
        i === 0 ? node : null,
        h('td', {}, h('span', { class: 'id' }, e.address), h('span', { class: 'sub' }, `cluster ${e.cluster}`)),
        // Not measured since the ACK reads "unknown": 0 would say the Envoy is done with it.
        h('td', { class: e.requests ? 'num hot' : 'num' }, e.requests === null ? 'unknown' : count(e.requests)),
        h('td', { class: 'num' }, e.connections === null ? 'unknown' : count(e.connections)),
        i === 0 ? nodeAfter : null,
      ),
    ),
  );
}
