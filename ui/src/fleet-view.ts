/**
 * The fleet view: totals and per-locality counts (from the server's summary), the node filter,
 * and one page of nodes grouped by cluster and locality, each with its listeners' states.
 */
import { nodeAddress } from './address.js';
import { byId, fieldText, h, replaceContent } from './dom.js';
import { ago, badge, count, localityText } from './format.js';
import type { NodeList } from './node-list.js';
import { nodeListeners } from './node-listeners.js';
import { pager } from './pager.js';
import type { NodeFilter, Store } from './store.js';
import type { FleetSummary, LocalityCounts, NodeView, XdsType } from './types.js';

export function fleetView(store: Store, nodes: NodeList): void {
  const form = byId<HTMLFormElement>('node-filter');
  const totals = byId('fleet-totals');
  const groups = byId('fleet-groups');
  const table = byId('node-table');
  pager(store, nodes);

  // A filter changed on the form starts again from its first page, at the page size chosen.
  const readForm = (): NodeFilter => {
    const data = new FormData(form);
    return {
      ...store.state.filter,
      pageNumber: 1,
      q: fieldText(data, 'q'),
      cluster: fieldText(data, 'cluster'),
      zone: fieldText(data, 'zone'),
      state: fieldText(data, 'state') as NodeFilter['state'],
      connected: data.get('connected') === 'on',
    };
  };
  let typing: number | undefined;
  form.addEventListener('input', (e) => {
    clearTimeout(typing);
    // Typing in the search box waits for a pause; a select or checkbox applies at once.
    const wait = (e.target as HTMLElement).getAttribute('type') === 'search' ? 250 : 0;
    typing = window.setTimeout(() => {
      typing = undefined;
      nodes.filter(readForm());
    }, wait);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(typing);
    typing = undefined;
    nodes.filter(readForm());
  });
  form.addEventListener('reset', () => setTimeout(() => nodes.filter(readForm())));

  /** Filters the node list to one cluster and zone (from a row of the locality table). */
  const showLocality = (g: LocalityCounts): void => {
    setSelect(form, 'cluster', g.cluster);
    fillZones(form, store.state.summary, g.cluster);
    setSelect(form, 'zone', g.zone);
    nodes.filter(readForm());
    byId('nodes-title').scrollIntoView({ block: 'start' });
    form.querySelector<HTMLInputElement>('input[name="q"]')?.focus();
  };

  // The summary comes up to twice a second; most of the time the counts did not change.
  let shownSummary = '';
  store.watch(['summary'], ({ summary }) => {
    if (!summary) return;
    const key = JSON.stringify(summary);
    if (key === shownSummary) return;
    shownSummary = key;
    replaceContent(totals, ...renderTotals(summary));
    replaceContent(groups, renderGroups(summary, showLocality));
    fillClusters(form, summary);
    fillZones(form, summary, fieldText(new FormData(form), 'cluster'));
  });

  // The filter as the address gives it (opened cold, or the back button): the form shows it.
  store.watch(['filter'], ({ filter, summary }) => {
    // What was typed and is still to be applied is ahead of the filter, not behind it (a page
    // turned meanwhile): it stays, and applies at the end of the pause.
    if (typing !== undefined) return;
    if (JSON.stringify(readForm()) === JSON.stringify({ ...filter, pageNumber: 1 })) return;
    const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
    field('q').value = filter.q;
    setSelect(form, 'cluster', filter.cluster);
    fillZones(form, summary, filter.cluster);
    setSelect(form, 'zone', filter.zone);
    setSelect(form, 'state', filter.state);
    field('connected').checked = filter.connected;
  });

  // Redrawn when a page comes (the event stream says when it is worth fetching), not per summary.
  store.watch(['nodes', 'nodesError'], ({ nodes: shown, nodesError, summary }) => {
    const page = shown.page;
    if (nodesError !== undefined) {
      replaceContent(table, h('p', { class: 'error', role: 'alert' }, nodesError));
      return;
    }
    if (!page) return;
    replaceContent(table, renderNodes(page.nodes, summary));
  });
}

function renderTotals(s: FleetSummary): HTMLElement[] {
  const item = (label: string, value: string, ...extra: (HTMLElement | string)[]) =>
    h('div', { class: 'total' }, h('dt', {}, label), h('dd', {}, h('span', { class: 'big' }, value), ...extra));
  return [
    item('Nodes', count(s.nodes.total), ...connectedBadges(s.nodes.total, s.nodes.connected)),
    item('NACKing', count(s.nodes.nacking), s.nodes.nacking > 0 ? badge('nack') : ''),
    item('Listeners serving', count(s.listeners.serving), ' ', badge('serving')),
    item('Listeners draining', count(s.listeners.draining), ' ', badge('draining')),
    item('Listeners gone', count(s.listeners.gone), ' ', badge('gone')),
    item('Drains running', count(s.drains.running), ' ', h('a', { href: '#/drains' }, 'see drains')),
  ];
}

/** Connected and disconnected nodes, each said only when there are some: never a green "connected 0". */
function connectedBadges(total: number, connected: number): HTMLElement[] {
  return [
    ...(connected > 0 ? [badge('connected', count(connected))] : []),
    ...(total > connected ? [badge('disconnected', count(total - connected))] : []),
  ];
}

function renderGroups(s: FleetSummary, show: (g: LocalityCounts) => void): HTMLElement {
  const byCluster = new Map<string, LocalityCounts[]>();
  for (const g of s.groups) byCluster.set(g.cluster, [...(byCluster.get(g.cluster) ?? []), g]);
  const num = (n: number) => h('td', { class: 'num' }, count(n));
  const bodies = [...byCluster].map(([cluster, rows]) =>
    h(
      'tbody',
      {},
      rows.map((g, i) => {
        const where = localityText({ region: g.region, zone: g.zone, subZone: g.subZone });
        const button = h('button', { type: 'button', class: 'link', 'data-key': `group:${cluster}\0${where}` }, 'Show nodes');
        button.setAttribute('aria-label', `Show the nodes of ${cluster || 'no cluster'} in ${where}`);
        button.addEventListener('click', () => show(g));
        return h(
          'tr',
          {},
          i === 0 ? h('th', { scope: 'rowgroup', rowspan: rows.length }, cluster || '(no cluster)') : null,
          h('td', {}, where),
          num(g.nodes),
          num(g.connected),
          num(g.listeners.serving),
          h('td', { class: g.listeners.draining > 0 ? 'num hot' : 'num' }, count(g.listeners.draining)),
          num(g.listeners.gone),
          h('td', { class: g.nacking > 0 ? 'num bad' : 'num' }, count(g.nacking)),
          h('td', {}, button),
        );
      }),
    ),
  );
  const col = (label: string, cls = '') => h('th', { scope: 'col', class: cls }, label);
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'groups' },
      h('caption', {}, 'Nodes and the listeners of connected nodes, by cluster and locality'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          col('Cluster'),
          col('Locality'),
          col('Nodes', 'num'),
          col('Connected', 'num'),
          col('Serving', 'num'),
          col('Draining', 'num'),
          col('Gone', 'num'),
          col('NACKing', 'num'),
          h('td', {}),
        ),
      ),
      bodies,
    ),
    s.groupsOmitted > 0 ? h('p', {}, `${count(s.groupsOmitted)} more localities not shown`) : null,
  );
}

function renderNodes(nodes: readonly NodeView[], summary: FleetSummary | undefined): HTMLElement {
  const rows: HTMLElement[] = [];
  let group = '';
  for (const n of nodes) {
    const key = `${n.cluster}\0${n.locality.region}\0${n.locality.zone}\0${n.locality.subZone}`;
    if (key !== group) {
      group = key;
      const counts = summary?.groups.find(
        (g) => g.cluster === n.cluster && g.region === n.locality.region && g.zone === n.locality.zone && g.subZone === n.locality.subZone,
      );
      rows.push(
        h(
          'tr',
          { class: 'group-row' },
          h(
            'th',
            { scope: 'colgroup', colspan: 6 },
            localityText({ cluster: n.cluster, ...n.locality }),
            counts ? ` (${count(counts.nodes)} nodes)` : '',
          ),
        ),
      );
    }
    rows.push(
      h(
        'tr',
        {},
        h(
          'th',
          { scope: 'row' },
          h('a', { class: 'id', href: nodeAddress(n.id), 'data-key': `node:${n.id}` }, n.id),
          h('span', { class: 'sub' }, n.userAgent),
        ),
        h('td', { 'data-label': 'xDS stream' }, badge(n.connected ? 'connected' : 'disconnected')),
        // Unknown (no gauge report lately) reads as a dash, never as 0.
        h('td', { class: 'num connections', 'data-label': 'Connections' }, n.connections ? count(n.connections.total) : '—'),
        h('td', { 'data-label': 'Listeners' }, nodeListeners(n, { cls: 'listeners', action: false })),
        h('td', { 'data-label': 'Last ACK / NACK' }, lastAnswer(n)),
        h('td', { 'data-label': 'Connected since' }, n.connected ? ago(n.connectedSince) : ['last seen ', ago(n.lastSeen)]),
      ),
    );
  }
  const col = (label: string) => h('th', { scope: 'col' }, label);
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'nodes cards' },
      h('caption', { class: 'visually-hidden' }, 'Nodes, grouped by cluster and locality'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          col('Node'),
          col('xDS stream'),
          h('th', { scope: 'col', class: 'num' }, 'Connections'),
          col('Listeners (state, role, drain_type)'),
          col('Last ACK / NACK'),
          col('Connected since'),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

const TYPES: readonly XdsType[] = ['lds', 'cds', 'rds', 'eds', 'sds'];

/** The latest ACK, and a NACK newer than its type's ACK (the config the node runs is not the one it was sent). */
function lastAnswer(n: NodeView): (HTMLElement | string)[] {
  const acks = TYPES.flatMap((t) => (n.types[t]?.acked ? [{ t, ...n.types[t].acked }] : [])).sort((a, b) => b.at.localeCompare(a.at));
  const nacks = TYPES.flatMap((t) => {
    const s = n.types[t];
    return s?.lastNack && (!s.acked || s.lastNack.at > s.acked.at) ? [{ t, ...s.lastNack }] : [];
  });
  const out: (HTMLElement | string)[] = [];
  const ack = acks[0];
  if (ack) out.push(h('span', {}, `${ack.t.toUpperCase()} ACK `, ago(ack.at)));
  for (const nack of nacks) {
    out.push(
      h('span', { class: 'nack', title: nack.message }, badge('nack'), ` ${nack.t.toUpperCase()} `, ago(nack.at), `: ${shorten(nack.message, 80)}`),
    );
  }
  return out.length > 0 ? out : ['–'];
}

function shorten(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function setSelect(form: HTMLFormElement, name: string, value: string): void {
  const select = form.elements.namedItem(name) as HTMLSelectElement;
  if (![...select.options].some((o) => o.value === value)) select.append(h('option', { value }, value || '(none)'));
  select.value = value;
}

/** Options of a select from the summary, keeping the one chosen. */
function fillOptions(select: HTMLSelectElement, values: readonly string[], anyLabel: string): void {
  const chosen = select.value;
  // An empty value is the "any" choice, so a node without a zone is found by the other filters.
  const all = [...new Set(values)].filter((v) => v !== '').sort();
  if (chosen !== '' && !all.includes(chosen)) all.push(chosen);
  const wanted = ['', ...all].join('\0');
  if ([...select.options].map((o) => o.value).join('\0') === wanted) return;
  select.replaceChildren(h('option', { value: '' }, anyLabel), ...all.map((v) => h('option', { value: v }, v)));
  select.value = chosen;
}

function fillClusters(form: HTMLFormElement, summary: FleetSummary): void {
  fillOptions(
    form.elements.namedItem('cluster') as HTMLSelectElement,
    summary.groups.map((g) => g.cluster),
    'all clusters',
  );
}

function fillZones(form: HTMLFormElement, summary: FleetSummary | undefined, cluster: string): void {
  const zones = (summary?.groups ?? []).filter((g) => cluster === '' || g.cluster === cluster).map((g) => g.zone);
  fillOptions(form.elements.namedItem('zone') as HTMLSelectElement, zones, 'all zones');
}
