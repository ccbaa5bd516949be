/**
 * The page of nodes on screen: one page at a time from the server (filtered and ordered there),
 * and refetched only when the event stream says a node on it changed, or nodes came or went,
 * at most once a second, however busy the fleet is.
 */
import type { Api } from './api.js';
import type { NodeFilter, Store } from './store.js';
import type { FleetEvent, NodePage } from './types.js';

export const PAGE_SIZE = 50;
const MIN_REFRESH_MS = 1000;

export class NodeList {
  #inflight: AbortController | undefined;
  #timer: number | undefined;
  #lastLoad = 0;
  #lastTotal: number | undefined;

  constructor(
    private readonly api: Api,
    private readonly store: Store,
  ) {}

  /** Shows the first page of the nodes matching `filter`. */
  filter(filter: NodeFilter): void {
    this.store.update({ filter, nodes: { ...this.store.state.nodes, cursor: undefined, previous: [] } });
    void this.load();
  }

  next(): void {
    const { page, cursor, previous } = this.store.state.nodes;
    if (!page?.nextCursor) return;
    this.store.update({ nodes: { page, cursor: page.nextCursor, previous: [...previous, cursor] } });
    void this.load();
  }

  previous(): void {
    const { page, previous } = this.store.state.nodes;
    if (previous.length === 0) return;
    this.store.update({ nodes: { page, cursor: previous.at(-1), previous: previous.slice(0, -1) } });
    void this.load();
  }

  /** Reloads the page shown when the change can touch it. */
  changed(event: FleetEvent): void {
    const page = this.store.state.nodes.page;
    const total = event.summary.nodes.total;
    const shown = new Set(page?.nodes.map((n) => n.id));
    const touches =
      page === undefined ||
      total !== this.#lastTotal ||
      event.changedNodesOmitted > 0 ||
      event.changedNodes.some((id) => shown.has(id)) ||
      (page.nodes.length < PAGE_SIZE && event.changedNodes.length > 0);
    this.#lastTotal = total;
    if (!touches || this.#timer !== undefined) return;
    this.#timer = window.setTimeout(
      () => {
        this.#timer = undefined;
        void this.load();
      },
      Math.max(0, this.#lastLoad + MIN_REFRESH_MS - Date.now()),
    );
  }

  async load(): Promise<void> {
    this.#inflight?.abort();
    const inflight = (this.#inflight = new AbortController());
    this.#lastLoad = Date.now();
    const { filter, nodes } = this.store.state;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (filter.q.trim() !== '') params.set('q', filter.q.trim());
    if (filter.cluster !== '') params.set('cluster', filter.cluster);
    if (filter.zone !== '') params.set('zone', filter.zone);
    if (filter.state !== '') params.set('state', filter.state);
    if (filter.connected) params.set('connected', 'true');
    if (nodes.cursor !== undefined) params.set('cursor', nodes.cursor);
    try {
      const page = await this.api.get<NodePage>(`/v1/nodes?${params}`, inflight.signal);
      this.store.update({ nodes: { ...this.store.state.nodes, page }, nodesError: undefined });
    } catch (err) {
      if (inflight.signal.aborted) return;
      this.store.update({ nodesError: (err as Error).message });
    }
  }
}
