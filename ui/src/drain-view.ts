/**
 * The drains view: the list of recent drains, and one drain in detail: its phases, a progress
 * bar per batch, and the nodes holding it (each with its connections falling over time, why it
 * holds the drain, and the time left to its deadline), with advance and cancel.
 */
import type { Api } from './api.js';
import { connectionChart } from './chart.js';
import { confirmAction } from './confirm.js';
import { byId, h, replaceContent, type Child } from './dom.js';
import { endpointFacts, endpointTarget, renderEndpointNodes } from './endpoint-drain.js';
import { ago, badge, count, drainedAtText, duration, openConnectionsText, scopeText, selectorText } from './format.js';
import { nodesCaption, nodeCells } from './node-cells.js';
import type { Store } from './store.js';
import type { DrainDigest, NodeDigest, PhaseDigest } from './types.js';

export function drainView(store: Store, api: Api, report: (message: string) => void): void {
  const list = byId('drain-list');
  const detail = byId('drain-detail');

  /** A drain not in the stream's recent set: read once (the stream sends its later changes). */
  const fetchDrain = async (id: string): Promise<void> => {
    replaceContent(detail, h('p', {}, `Loading drain ${id}…`));
    try {
      const digest = await api.get<DrainDigest>(`/v1/drains/${encodeURIComponent(id)}/summary`);
      store.update({ drains: new Map(store.state.drains).set(id, digest) });
    } catch (err) {
      replaceContent(detail, h('p', { class: 'error', role: 'alert' }, (err as Error).message));
    }
  };

  const act = async (d: DrainDigest, verb: 'cancel' | 'advance'): Promise<void> => {
    const restored = endpointTarget(d.spec)
      ? 'The drain ends now and the endpoints it marked DRAINING (or left out) serve again on every node.'
      : 'The drain ends now and the listeners it removed or changed come back on its nodes.';
    const ok = await confirmAction(
      verb === 'cancel'
        ? {
            title: `Cancel drain ${d.id}?`,
            body: h('p', {}, restored),
            confirm: 'Cancel the drain',
          }
        : {
            title: `Start the egress phase of ${d.id}?`,
            body: h('p', {}, 'Egress listeners of its nodes start draining now; the application can no longer call out through them.'),
            confirm: 'Start egress',
          },
    );
    if (!ok) return;
    try {
      await api.post(`/v1/drains/${encodeURIComponent(d.id)}/${verb}`);
      report(verb === 'cancel' ? `Drain ${d.id} cancelled.` : `Drain ${d.id}: egress phase started.`);
    } catch (err) {
      report((err as Error).message);
    }
  };
  const actions = { cancel: (d: DrainDigest) => void act(d, 'cancel'), advance: (d: DrainDigest) => void act(d, 'advance') };

  // The list is short (running and recent drains); the detail is drawn again only when its drain changed.
  // Watched last: the first call comes at once, and a page opened at a drain's address fetches it.
  let shown: { drains: ReadonlyMap<string, DrainDigest>; route: unknown; detail: DrainDigest | undefined } | undefined;
  store.watch(['drains', 'route'], ({ drains, route }) => {
    if (drains !== shown?.drains || route !== shown.route) {
      const sorted = [...drains.values()].sort(
        (a, b) => Number(b.state === 'running') - Number(a.state === 'running') || b.createdAt.localeCompare(a.createdAt),
      );
      replaceContent(list, renderList(sorted, route.drain));
    }
    const digest = route.drain === undefined ? undefined : drains.get(route.drain);
    if (route.drain === undefined) replaceContent(detail, h('p', { class: 'hint' }, 'Choose a drain to see its progress, or start one.'));
    else if (!digest) void fetchDrain(route.drain);
    else if (digest !== shown?.detail || route !== shown.route) replaceContent(detail, ...renderDrain(digest, actions));
    shown = { drains, route, detail: digest };
  });
}

function renderList(drains: readonly DrainDigest[], selected: string | undefined): HTMLElement {
  if (drains.length === 0) return h('p', { class: 'hint' }, 'No drains yet.');
  const col = (label: string) => h('th', { scope: 'col' }, label);
  const rows = drains.map((d) => {
    const total = d.phases.reduce((s, p) => s + p.total, 0);
    const finished = d.phases.reduce((s, p) => s + finishedOf(p), 0);
    const current = d.id === selected;
    return h(
      'tr',
      { class: current ? 'selected' : '' },
      h(
        'th',
        { scope: 'row' },
        h('a', { href: `#/drains/${d.id}`, 'aria-current': current ? 'true' : false, 'data-key': `drain:${d.id}` }, d.id),
        // An endpoint drain without a selector takes every node that holds its endpoints.
        h('span', { class: 'sub' }, selectorText(d.spec.selector) || 'every node holding the endpoints'),
        h('span', { class: 'sub' }, `${d.spec.method} · ${scopeText(d)} · `, ago(d.createdAt)),
      ),
      h('td', {}, badge(d.state)),
      h(
        'td',
        {},
        h('progress', { max: Math.max(1, total), value: finished, 'aria-label': `${d.id}: ${finished} of ${total} nodes finished` }),
        ` ${finished}/${total}`,
      ),
    );
  });
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'drain-list' },
      h('caption', { class: 'visually-hidden' }, 'Running and recent drains'),
      h('thead', {}, h('tr', {}, col('Drain'), col('State'), col('Progress'))),
      h('tbody', {}, rows),
    ),
  );
}

/** What a node drain takes: its nodes, their listeners, and how. */
function listenerFacts(spec: DrainDigest['spec'], d: DrainDigest): [string, string][] {
  const batch = spec.batch === null ? 'all at once' : 'size' in spec.batch ? `${spec.batch.size} node(s)` : `${spec.batch.percent}%`;
  return [
    ['Selector', selectorText(spec.selector)],
    ['Scope', scopeText(d)],
    ['Method', spec.method],
    ['Batch', batch],
    ['Drained at', drainedAtText(spec)],
  ];
}

interface Actions {
  cancel(d: DrainDigest): void;
  advance(d: DrainDigest): void;
}

function renderDrain(d: DrainDigest, actions: Actions): Child[] {
  const running = d.state === 'running';
  const target = endpointTarget(d.spec);
  const canAdvance = running && d.phases.length === 2 && d.phases[1]!.state === 'pending';
  const cancel = h('button', { type: 'button', class: 'danger', 'data-key': 'cancel', disabled: !running }, 'Cancel drain…');
  cancel.addEventListener('click', () => actions.cancel(d));
  // An endpoint drain has no egress phase to start.
  const advance = target ? null : h('button', { type: 'button', 'data-key': 'advance', disabled: !canAdvance }, 'Start egress phase…');
  advance?.addEventListener('click', () => actions.advance(d));
  const spec = d.spec;
  const facts: [string, string | HTMLElement][] = target ? endpointFacts(spec, target) : listenerFacts(spec, d);
  facts.push(['Deadline', `${spec.deadlineSeconds}s per node`], ['Started', ago(d.createdAt)]);
  if (d.finishedAt) facts.push(['Took', duration(Date.parse(d.finishedAt) - Date.parse(d.createdAt))]);
  if (d.origin === 'shutdown') facts.push(['Started by', 'the shutdown of drainplane run']);
  if (d.retired) facts.push(['History', h('span', {}, `${d.retired.reason} (`, ago(d.retired.at), ')')]);
  return [
    h('h2', { id: 'drain-detail-title', tabindex: '-1' }, `${target ? 'Upstream drain' : 'Drain'} ${d.id} `, badge(d.state)),
    h(
      'dl',
      { class: 'facts' },
      facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
    ),
    h('div', { class: 'actions' }, advance, cancel),
    d.warnings.length > 0
      ? h(
          'ul',
          { class: 'warnings' },
          d.warnings.map((w) => h('li', {}, badge('nack'), ' ', w)),
        )
      : null,
    ...d.phases.map((p, i) => renderPhase(d, p, i === d.phase)),
  ];
}

function renderPhase(d: DrainDigest, p: PhaseDigest, current: boolean): HTMLElement {
  const finished = finishedOf(p);
  const ended = d.state !== 'running';
  // A drain cancelled mid-phase leaves the phase (and its unfinished nodes) where they were: say so.
  const phaseState = ended && p.state === 'running' ? d.state : p.state;
  const holding = ended ? 0 : (p.counts.pushed ?? 0) + (p.counts.acked ?? 0);
  const summary = [
    `${count(p.counts.drained ?? 0)} of ${count(p.total)} nodes drained`,
    holding > 0 ? `${count(holding)} holding` : '',
    p.counts.timed_out ? `${count(p.counts.timed_out)} timed out` : '',
    p.counts.failed ? `${count(p.counts.failed)} failed` : '',
    p.counts.waiting ? `${count(p.counts.waiting)} waiting for their batch` : '',
    !ended && p.state === 'running' && d.spec.measure !== 'ack' && holding > 0 ? openConnectionsText(p.connections, p.connectionsUnknown) : '',
  ].filter(Boolean);
  const headingId = `phase-${d.id}-${p.name}`;
  return h(
    'section',
    { class: `phase${current ? ' current' : ''}`, 'aria-labelledby': headingId },
    h('h3', { id: headingId }, `${p.name} phase `, badge(phaseState), p.startedAt ? h('span', { class: 'sub' }, ' started ', ago(p.startedAt)) : ''),
    h(
      'p',
      {},
      h('progress', {
        max: Math.max(1, p.total),
        value: p.total === 0 ? (p.state === 'done' ? 1 : 0) : finished,
        'aria-label': `${p.name} phase: ${finished} of ${p.total} nodes finished`,
      }),
      ' ',
      summary.join(' · '),
    ),
    p.batches.length > 0
      ? h(
          'ol',
          { class: 'batches', 'aria-label': `${p.name} batches` },
          p.batches.map((b) =>
            h(
              'li',
              {},
              h('span', { class: 'batch-name' }, `Batch ${b.batch}`),
              h('progress', { max: b.nodes, value: b.finished, 'aria-label': `batch ${b.batch}: ${b.finished} of ${b.nodes} nodes finished` }),
              ` ${b.finished}/${b.nodes} finished`,
              b.drained < b.finished ? `, ${b.finished - b.drained} not drained` : '',
            ),
          ),
        )
      : null,
    p.nodes.length > 0 ? (endpointTarget(d.spec) ? renderEndpointNodes(d, p) : renderNodes(d, p)) : null,
  );
}

function renderNodes(d: DrainDigest, p: PhaseDigest): HTMLElement {
  const col = (label: string, cls = '') => h('th', { scope: 'col', class: cls }, label);
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'drain-nodes' },
      h('caption', {}, nodesCaption(`Nodes of the ${p.name} phase`, p.nodes.length, p.total)),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          col('Node'),
          col('Batch', 'num'),
          col('State'),
          col('Connections', 'num'),
          col('Over time'),
          col('Holding the drain'),
          col('Deadline'),
        ),
      ),
      h(
        'tbody',
        {},
        p.nodes.map((n) => renderNode(n, d.state !== 'running')),
      ),
    ),
  );
}

function renderNode(n: NodeDigest, drainEnded: boolean): HTMLElement {
  const until = n.finishedAt ? Date.parse(n.finishedAt) : Date.now();
  const cells = nodeCells(n, drainEnded);
  return h(
    'tr',
    { 'data-node': n.nodeId },
    h('th', { scope: 'row' }, h('span', { class: 'id' }, n.nodeId)),
    h('td', { class: 'num' }, n.batch ?? '–'),
    cells.state,
    h('td', { class: 'num' }, n.connections === null ? (cells.open ? 'unknown' : '–') : count(n.connections)),
    h('td', {}, connectionChart(n.history, until)),
    cells.why,
    cells.deadline,
  );
}

function finishedOf(p: PhaseDigest): number {
  return (p.counts.drained ?? 0) + (p.counts.timed_out ?? 0) + (p.counts.failed ?? 0);
}
