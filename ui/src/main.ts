/**
 * The console's entry point: wires the API client, the store, the live event stream and the
 * views, and keeps the address (address.ts) and the view shown in step.
 */
import { fleetAddress, filterOf, routeOf } from './address.js';
import { Announcer } from './announcer.js';
import { Api } from './api.js';
import { byId } from './dom.js';
import { DrainForm } from './drain-form.js';
import { drainView } from './drain-view.js';
import { fleetView } from './fleet-view.js';
import { tickClock } from './format.js';
import { NodeList } from './node-list.js';
import { nodeView } from './node-view.js';
import { followEvents } from './sse.js';
import { isStale, staleBanner } from './stale.js';
import { Store } from './store.js';
import { TokenDialog } from './token.js';
import type { DrainDigest, FleetEvent } from './types.js';

const tokens = new TokenDialog();
const api = new Api(tokens);
const store = new Store({
  live: { state: 'connecting' },
  summary: undefined,
  drains: new Map(),
  filter: filterOf(location.hash),
  nodes: { page: undefined },
  nodesError: undefined,
  route: routeOf(location.hash),
});
const announcer = new Announcer();
const nodes = new NodeList(api, store);

tickClock(() => isStale(store.state.live));
staleBanner(store);
fleetView(store, nodes);
const nodePage = nodeView(store, api);
drainView(store, api, (message) => announcer.say(message));
const form = new DrainForm(api, store, (id, digest) => {
  if (digest) putDrain(digest);
  announcer.say(`Drain ${id} started.`);
  location.hash = `#/drains/${id}`;
});
byId('new-drain').addEventListener('click', () => {
  location.hash = '#/drains/new';
  // At once, not at the hashchange: a keyboard user types into the form right away.
  form.open();
});

function putDrain(d: DrainDigest): void {
  store.update({ drains: new Map(store.state.drains).set(d.id, d) });
}

// Views and tabs: the address says which view is shown, so the back button, links and reloads work.
const tabs = [byId<HTMLButtonElement>('tab-fleet'), byId<HTMLButtonElement>('tab-drains')];
window.addEventListener('hashchange', () => {
  const route = routeOf(location.hash);
  store.update({ route });
  const atFleet = route.view === 'fleet' && route.node === undefined;
  if (atFleet && fleetAddress(filterOf(location.hash)) !== fleetAddress(store.state.filter)) nodes.filter(filterOf(location.hash));
  if (route.drain !== undefined) byId('drain-detail').querySelector<HTMLElement>('h2')?.focus();
  if (route.node !== undefined) byId('node-detail').querySelector<HTMLElement>('h2')?.focus();
});
// The filter in the address, as it changes: replaced, not pushed, so typing a search leaves no trail of entries.
// Only while the address is the fleet's: a filter applied late (the form's reset waits a tick) must
// not undo a move to another view whose hashchange is still on its way.
store.watch(['filter'], ({ filter }) => {
  const address = fleetAddress(filter);
  const route = routeOf(location.hash);
  if (route.view === 'fleet' && route.node === undefined && location.hash !== address) history.replaceState(null, '', address);
});
store.watch(['route'], ({ route }) => {
  for (const tab of tabs) {
    const selected = tab.id === `tab-${route.view}`;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    byId(tab.getAttribute('aria-controls')!).hidden = !selected || route.node !== undefined;
  }
  // A node's page belongs to the fleet: its tab stays selected while the page takes its place.
  byId('view-node').hidden = route.node === undefined;
  if (route.form === true) form.open();
  else form.hide();
});
for (const [i, tab] of tabs.entries()) {
  tab.addEventListener('click', () => (location.hash = tab.id === 'tab-fleet' ? fleetAddress(store.state.filter) : '#/drains'));
  // Arrow keys move between tabs, as in every tablist.
  tab.addEventListener('keydown', (e) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    const to = tabs[(i + step + tabs.length) % tabs.length]!;
    to.focus();
    to.click();
  });
}

// The token: asked for when the API refuses a request, changeable at any time.
byId('token-button').addEventListener('click', () => {
  tokens.forget();
  void tokens.ask('Enter the API token (the one the CLI reads from --token-file or DRAINPLANE_API_TOKEN).').then(() => restart());
});

// Live updates: one event stream for the whole page.
const liveLabel = byId('live');
store.watch(['live'], ({ live }) => {
  liveLabel.dataset['state'] = live.state;
  liveLabel.textContent = live.state === 'live' ? 'Live' : live.state === 'connecting' ? 'Connecting…' : `Reconnecting… (${live.detail ?? ''})`;
});
let stream = new AbortController();
function restart(): void {
  stream.abort();
  stream = new AbortController();
  void nodes.load();
  void followEvents(
    api,
    '/v1/fleet/events',
    {
      state: (state, detail) => {
        if (state !== store.state.live.state || detail !== store.state.live.detail)
          store.update({ live: detail === undefined ? { state } : { state, detail } });
      },
      event: (name, data) => {
        if (name === 'fleet') {
          const event = data as FleetEvent;
          store.update({ summary: event.summary });
          nodes.changed(event);
          nodePage.changed(event);
        } else if (name === 'drain') {
          const drain = data as DrainDigest;
          announcer.drain(drain);
          putDrain(drain);
        }
      },
    },
    stream.signal,
  );
}
restart();
