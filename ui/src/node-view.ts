/**
 * A node's page (`#/nodes/ID`): fetched when its address is shown, then again when the event
 * stream says the node changed, and every few seconds while shown, for its connections chart
 * (gauge reports do not make fleet events).
 */
import { fleetAddress } from './address.js';
import type { Api } from './api.js';
import { byId, h, replaceContent } from './dom.js';
import { nodeTitle, renderNode, type NodeConnections } from './node-page.js';
import type { Store } from './store.js';
import type { FleetEvent, NodeView } from './types.js';

const POLL_MS = 5000;

export interface NodePage {
  /** Reads the node again when the change is about it. */
  changed(event: FleetEvent): void;
}

export function nodeView(store: Store, api: Api): NodePage {
  const detail = byId('node-detail');
  const back = byId<HTMLAnchorElement>('back-to-fleet');
  let shown: string | undefined;
  let inflight: AbortController | undefined;
  let timer: number | undefined;

  const read = async (id: string): Promise<void> => {
    inflight?.abort();
    const mine = (inflight = new AbortController());
    const path = `/v1/nodes/${encodeURIComponent(id)}`;
    try {
      const [node, history] = await Promise.all([api.get<NodeView>(path, mine.signal), api.get<NodeConnections>(`${path}/connections`, mine.signal)]);
      if (shown === id) replaceContent(detail, ...renderNode(node, history.samples));
    } catch (err) {
      if (mine.signal.aborted || shown !== id) return;
      // A node shown before keeps its page; one never shown says why it is not.
      if (detail.dataset['node'] !== id)
        replaceContent(detail, nodeTitle(`Node ${id}`), h('p', { class: 'error', role: 'alert' }, (err as Error).message));
    }
    detail.dataset['node'] = id;
  };

  store.watch(['route', 'filter'], ({ route, filter }) => {
    back.href = fleetAddress(filter);
    if (route.node === shown) return;
    shown = route.node;
    window.clearInterval(timer);
    inflight?.abort();
    if (shown === undefined) return;
    delete detail.dataset['node'];
    replaceContent(detail, nodeTitle(`Node ${shown}`), h('p', {}, 'Loading…'));
    const id = shown;
    void read(id);
    timer = window.setInterval(() => void read(id), POLL_MS);
  });

  return {
    changed(event) {
      if (shown !== undefined && (event.changedNodesOmitted > 0 || event.changedNodes.includes(shown))) void read(shown);
    },
  };
}
