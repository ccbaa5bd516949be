/**
 * The drains view: the list of recent drains, and one drain in detail: its facts, what can be
 * done to it, and its phases (drain-phase.ts).
 */
import { ApiError, type Api } from './api.js';
import { DrainActions } from './drain-actions.js';
import { DrainSearch } from './drain-search.js';
import { renderOverview } from './drain-overview.js';
import { drainedBar, notDrainedText, renderPhases, type Folding } from './drain-phase.js';
import { byId, h, replaceContent, type Child } from './dom.js';
import { endpointFacts, endpointTarget } from './endpoint-drain.js';
import { ago, badge, drainedAtText, duration, scopeText, selectorText } from './format.js';
import { NodeActions } from './node-actions.js';
import type { Store } from './store.js';
import type { DrainDigest, PhaseDigest } from './types.js';

export function drainView(store: Store, api: Api, report: (message: string) => void): void {
  const list = byId('drain-list');
  const detail = byId('drain-detail');
  const folding: Folding = new Map();

  // The drain the address names while it is read, and once the daemon said there is no such
  // drain: neither is asked for again on every other drain's update (until the address changes).
  let reading: string | undefined;
  let unknown: string | undefined;
  const read = async (id: string): Promise<void> => {
    reading = id;
    try {
      const digest = await api.get<DrainDigest>(`/v1/drains/${encodeURIComponent(id)}/summary`);
      store.update({ drains: new Map(store.state.drains).set(id, digest) });
    } catch (err) {
      if (store.state.route.drain === id && !store.state.drains.has(id)) {
        // Any other failure (the daemon restarting, a token declined) is tried again at the next update.
        if (err instanceof ApiError && err.status === 404) unknown = id;
        replaceContent(detail, title(`Drain ${id}`), h('p', { class: 'error', role: 'alert' }, (err as Error).message));
      } else draw(); // the drain shown as it was, with the action's error beside its buttons
    } finally {
      if (reading === id) reading = undefined;
    }
  };
  const actions = { drain: new DrainActions(api, store, read, report), nodes: new NodeActions(api, store, read, report) };
  const search = new DrainSearch(api, store, () => draw());
  // The drain as the page shows it: with a search, its matching nodes as rows once they came.
  const shownDigest = (): DrainDigest | undefined => {
    const { drains, route } = store.state;
    return route.drain === undefined ? undefined : (search.digest(route) ?? drains.get(route.drain));
  };

  // The list is short (running and recent drains); the detail is drawn again only when its drain changed.
  let shown: { drains: ReadonlyMap<string, DrainDigest>; route: unknown; detail: DrainDigest | undefined } | undefined;
  const draw = (): void => {
    const { drains, route } = store.state;
    const digest = shownDigest();
    if (digest) replaceContent(detail, ...renderDrain(digest, actions, folding));
    shown = { drains, route, detail: digest };
  };
  // Watched last: the first call comes at once, and a page opened at a drain's address fetches it.
  store.watch(['drains', 'route'], ({ drains, route }) => {
    if (drains !== shown?.drains || route !== shown.route) {
      const sorted = [...drains.values()].sort(
        (a, b) => Number(b.state === 'running') - Number(a.state === 'running') || b.createdAt.localeCompare(a.createdAt),
      );
      replaceContent(list, renderList(sorted, route.drain));
    }
    search.follow(route, route.drain === undefined ? undefined : drains.get(route.drain));
    const digest = shownDigest();
    if (route !== shown?.route) unknown = undefined;
    if (route.drain === undefined) replaceContent(detail, h('p', { class: 'hint' }, 'Choose a drain to see its progress, or start one.'));
    else if (!digest) {
      if (route.drain !== unknown && route.drain !== reading) {
        replaceContent(detail, title(`Drain ${route.drain}`), h('p', {}, 'Loading…'));
        void read(route.drain);
      }
    } else if (digest !== shown?.detail || route !== shown.route) draw();
    shown = { drains, route, detail: digest };
  });
}

function renderList(drains: readonly DrainDigest[], selected: string | undefined): HTMLElement {
  if (drains.length === 0) return h('p', { class: 'hint' }, 'No drains yet.');
  const col = (label: string) => h('th', { scope: 'col' }, label);
  const rows = drains.map((d) => {
    const total = d.phases.reduce((s, p) => s + p.total, 0);
    const drained = d.phases.reduce((s, p) => s + (p.counts.drained ?? 0), 0);
    const notDrained = notDrainedText(sumCounts(d.phases));
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
      h('td', {}, drainedBar(d.id, drained, total), ` ${drained}/${total} drained`, notDrained ? h('span', { class: 'sub bad' }, notDrained) : null),
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

/** Node counts by state over the drain's phases. */
function sumCounts(phases: readonly PhaseDigest[]): PhaseDigest['counts'] {
  const sum: Record<string, number> = {};
  for (const p of phases) for (const [state, n] of Object.entries(p.counts)) sum[state] = (sum[state] ?? 0) + (n ?? 0);
  return sum;
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

function renderDrain(d: DrainDigest, actions: { drain: DrainActions; nodes: NodeActions }, folding: Folding): Child[] {
  const target = endpointTarget(d.spec);
  const spec = d.spec;
  const facts: [string, string | HTMLElement][] = target ? endpointFacts(spec, target) : listenerFacts(spec, d);
  facts.push(['Deadline', `${spec.deadlineSeconds}s per node`], ['Started', ago(d.createdAt)]);
  if (d.finishedAt) facts.push(['Took', duration(Date.parse(d.finishedAt) - Date.parse(d.createdAt))]);
  if (d.origin === 'shutdown') facts.push(['Started by', 'the shutdown of drainplane run']);
  if (d.retired) facts.push(['History', h('span', {}, `${d.retired.reason} (`, ago(d.retired.at), ')')]);
  return [
    title(`${target ? 'Upstream drain' : 'Drain'} ${d.id} `, badge(d.state)),
    h(
      'dl',
      { class: 'facts' },
      facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
    ),
    // Said where it cannot be missed: a paused drain looks much like one that waits on its nodes.
    d.paused && d.state === 'running'
      ? h(
          'p',
          { class: 'paused' },
          badge('waiting', 'paused'),
          ` Paused since ${new Date(d.paused.at).toLocaleTimeString('en-GB')} (`,
          ago(d.paused.at),
          '): no batch or phase starts until it is resumed.',
        )
      : null,
    actions.drain.render(d),
    ...renderOverview(d),
    d.warnings.length > 0
      ? h(
          'ul',
          { class: 'warnings' },
          d.warnings.map((w) => h('li', {}, badge('nack'), ' ', w)),
        )
      : null,
    ...renderPhases(d, folding, actions.nodes),
  ];
}

/**
 * The detail's heading, focused when the address moves to a drain; its `data-key` keeps that
 * focus through the redraws of a running drain.
 */
function title(...children: Child[]): HTMLHeadingElement {
  return h('h2', { id: 'drain-detail-title', tabindex: '-1', 'data-key': 'title' }, ...children);
}
