/**
 * The page of nodes on screen: one page at a time from the server (filtered and ordered there),
 * and refetched only when the event stream says a node on it changed, or nodes came or went,
 * at most once a second, however busy the fleet is.
 *
 * A page is fetched by its position (`offset`), not by cursor: an operator names a page by its
 * number ("page 7 of 200", in the address and in a shared link), and jumps there. The price is
 * that nodes coming or going before the page shift it by as many; its range says so
 * (`Nodes 301–400 of 10,001`), and the list is ordered, so nothing is hidden for long.
 */
import type { Api } from './api.js';
import type { NodeFilter, Store } from './store.js';
import type { FleetEvent, NodePage } from './types.js';

const MIN_REFRESH_MS = 1000;
/** The API's bound on `offset`: a page asked for past it is past the last page anyway. */
const MAX_OFFSET = 1_000_000;

export class NodeList {
  #inflight: AbortController | undefined;
  #timer: number | undefined;
  #lastLoad = 0;
  #lastTotal: number | undefined;

  constructor(
    private readonly api: Api,
    private readonly store: Store,
  ) {}

  /** Shows the page of the nodes matching `filter` that it names. */
  filter(filter: NodeFilter): void {
    this.store.update({ filter });
    void this.load();
  }

  /** Shows page `n` (from 1) of the same filter. */
  goTo(n: number): void {
    this.filter({ ...this.store.state.filter, pageNumber: Math.max(1, Math.trunc(n)) });
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
      (page.nodes.length < this.store.state.filter.pageSize && event.changedNodes.length > 0);
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
    const { filter } = this.store.state;
    const params = new URLSearchParams({ limit: String(filter.pageSize) });
    if (filter.q.trim() !== '') params.set('q', filter.q.trim());
    if (filter.cluster !== '') params.set('cluster', filter.cluster);
    if (filter.zone !== '') params.set('zone', filter.zone);
    if (filter.state !== '') params.set('state', filter.state);
    if (filter.connected) params.set('connected', 'true');
    if (filter.pageNumber > 1) params.set('offset', String(Math.min(MAX_OFFSET, (filter.pageNumber - 1) * filter.pageSize)));
    try {
      const page = await this.api.get<NodePage>(`/v1/nodes?${params}`, inflight.signal);
      this.store.update({ nodes: { page }, nodesError: undefined });
    } catch (err) {
      if (inflight.signal.aborted) return;
      this.store.update({ nodesError: (err as Error).message });
    }
  }
}
