/**
 * What a node's page shows: who the node is, its streams, what it was sent and ACKed of each
 * xDS type (and the last NACK, with Envoy's message), its listeners with the drain acting on
 * them, and its connections now and over the last minutes.
 */
import { connectionChart } from './chart.js';
import { h, type Child } from './dom.js';
import { ago, badge, count, localityText } from './format.js';
import { nodeListeners } from './node-listeners.js';
import type { NodeView, XdsType } from './types.js';

/** GET /v1/nodes/:id/connections. */
export interface NodeConnections {
  readonly samples: readonly (readonly [number, number])[];
}

const TYPES: readonly XdsType[] = ['lds', 'cds', 'rds', 'eds', 'sds'];

/**
 * The node page's heading, focused when the address moves to a node; its `data-key` keeps that
 * focus through the page's polls and redraws.
 */
export function nodeTitle(...children: Child[]): HTMLHeadingElement {
  return h('h2', { tabindex: '-1', 'data-key': 'title' }, ...children);
}

export function renderNode(n: NodeView, samples: NodeConnections['samples']): Child[] {
  return [
    nodeTitle('Node ', h('span', { class: 'id' }, n.id), ' ', badge(n.connected ? 'connected' : 'disconnected')),
    facts('identity', [
      ['Cluster', n.cluster || '(no cluster)'],
      ['Locality', localityText(n.locality)],
      ['User agent', n.userAgent || '–'],
      ...(n.replica !== undefined ? [['Replica', n.replica] as [string, Child]] : []),
      n.connected ? ['Connected', ago(n.connectedSince)] : ['Last seen', ago(n.lastSeen)],
    ]),
    section('Connections', 'node-connections', connections(n, samples)),
    section('Listeners', 'node-listeners-section', listeners(n)),
    section('Configuration sent and ACKed', 'node-versions', versions(n), lastNack(n)),
    section('Streams', 'node-streams', streams(n)),
    section('Metadata', 'node-metadata', metadata(n)),
  ];
}

function section(title: string, cls: string, ...body: Child[]): HTMLElement {
  const id = `node-${cls}-title`;
  return h('section', { class: cls, 'aria-labelledby': id }, h('h3', { id }, title), body);
}

function facts(cls: string, rows: readonly (readonly [string, Child])[]): HTMLElement {
  return h(
    'dl',
    { class: `facts ${cls}` },
    rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
  );
}

function connections(n: NodeView, samples: NodeConnections['samples']): Child[] {
  const c = n.connections;
  const now: Child = c
    ? h('p', {}, h('strong', {}, `${count(c.total)} ${c.total === 1 ? 'connection' : 'connections'} open`), ' (reported ', ago(c.at), ')')
    : h('p', {}, 'Connections unknown: the node has not reported its gauges lately.');
  const byListener = c
    ? h(
        'ul',
        { class: 'plain' },
        Object.entries(c.listeners).map(([name, v]) => h('li', {}, h('span', { class: 'id' }, name), `: ${v === null ? 'unknown' : count(v)}`)),
      )
    : null;
  return [now, byListener, connectionChart(samples, Date.now(), { width: 320, height: 64 })];
}

function listeners(n: NodeView): Child {
  if (n.listeners.length === 0) return h('p', { class: 'hint' }, 'No listener sent to this node.');
  return nodeListeners(n, { cls: 'listeners node-listeners', action: true });
}

function versions(n: NodeView): HTMLElement {
  const col = (label: string) => h('th', { scope: 'col' }, label);
  const at = (v: { version: string; at: string } | undefined): Child =>
    v ? [h('span', { class: 'version' }, v.version), h('span', { class: 'sub' }, ago(v.at))] : '–';
  const rows = TYPES.map((t) => {
    const s = n.types[t];
    const state = !s
      ? 'not asked for'
      : s.parked
        ? `parked (rejected version ${s.parked.version})`
        : s.lastNack && (!s.acked || s.lastNack.at > s.acked.at)
          ? 'NACKed'
          : s.acked && s.sent && s.acked.version === s.sent.version
            ? 'acked'
            : s.sent
              ? 'sent, not acked yet'
              : '–';
    return h(
      'tr',
      { 'data-type': t },
      h('th', { scope: 'row' }, t.toUpperCase()),
      h('td', { 'data-label': 'State' }, state),
      h('td', { 'data-label': 'Sent' }, at(s?.sent)),
      h('td', { 'data-label': 'ACKed' }, at(s?.acked)),
    );
  });
  return h(
    'div',
    { class: 'scroll' },
    h('table', { class: 'versions cards' }, h('thead', {}, h('tr', {}, col('Type'), col('State'), col('Sent'), col('ACKed'))), h('tbody', {}, rows)),
  );
}

function lastNack(n: NodeView): Child {
  const nacks = TYPES.flatMap((t) => (n.types[t]?.lastNack ? [{ t, ...n.types[t].lastNack }] : [])).sort((a, b) => b.at.localeCompare(a.at));
  const nack = nacks[0];
  if (!nack) return h('p', { class: 'hint' }, 'No NACK from this node.');
  return h(
    'div',
    { class: 'last-nack' },
    h('p', {}, badge('nack'), ` Last NACK: ${nack.t.toUpperCase()} version ${nack.version}, `, ago(nack.at)),
    h('pre', { class: 'message' }, nack.message),
  );
}

function streams(n: NodeView): Child {
  if (n.streams.length === 0) return h('p', { class: 'hint' }, 'No stream open.');
  return h(
    'ul',
    { class: 'plain' },
    n.streams.map((s) => h('li', {}, `#${s.id} ${s.protocol}${s.aggregated ? ' (ADS)' : ''} from ${s.peer}, opened `, ago(s.since))),
  );
}

function metadata(n: NodeView): Child {
  const entries = Object.entries(n.metadata);
  if (entries.length === 0) return h('p', { class: 'hint' }, 'No metadata.');
  return facts(
    'metadata',
    entries.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}
