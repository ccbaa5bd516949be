/**
 * Finding nodes in a large drain: its page shows only the nodes worth a row, so a search asks the
 * server for the rows whose id matches (GET /v1/drains/:id/summary?q=PART), across all its
 * phases, waiting nodes too. The search is in the address (`#/drains/ID?q=PART`, replaced as one
 * types), so a reload or a shared link opens with it; the result is fetched again when the drain
 * changes, at most once a second.
 */
import { drainAddress, routeOf } from './address.js';
import type { Api } from './api.js';
import { byId } from './dom.js';
import { count } from './format.js';
import type { ConsoleState, Store } from './store.js';
import type { DrainDigest } from './types.js';

const MIN_REFRESH_MS = 1000;

type Route = ConsoleState['route'];

export class DrainSearch {
  readonly #form = byId<HTMLFormElement>('drain-search');
  readonly #input = this.#form.querySelector<HTMLInputElement>('input[name="q"]')!;
  readonly #result = byId('drain-search-result');
  #found: { id: string; search: string; digest: DrainDigest } | undefined;
  /** The drain digest the last search was fetched for: a newer one means the drain moved on. */
  #basis: DrainDigest | undefined;
  #inflight: AbortController | undefined;
  /** The search being fetched: a drain's updates meanwhile wait for it rather than restart it. */
  #loading: { id: string; search: string } | undefined;
  /** The search whose last fetch failed, and why: said until a fetch of it succeeds. */
  #failed: { id: string; search: string; message: string } | undefined;
  #timer: number | undefined;
  #lastLoad = 0;

  /** `found`: a result came for the drain and search shown. */
  constructor(
    private readonly api: Api,
    private readonly store: Store,
    private readonly found: () => void,
  ) {
    let typing: number | undefined;
    this.#input.addEventListener('input', () => {
      clearTimeout(typing);
      typing = window.setTimeout(() => this.#search(this.#input.value), 250);
    });
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#search(this.#input.value);
    });
  }

  /** The drain as the route's search shows it, once fetched; undefined without a search. */
  digest(route: Route): DrainDigest | undefined {
    const found = this.#found;
    return found && route.search !== undefined && found.id === route.drain && found.search === route.search ? found.digest : undefined;
  }

  /** Keeps the box and the result in step with the route and the drain's latest digest. */
  follow(route: Route, latest: DrainDigest | undefined): void {
    this.#form.hidden = route.drain === undefined;
    if (document.activeElement !== this.#input) this.#input.value = route.search ?? '';
    if (route.drain === undefined || route.search === undefined) {
      this.#inflight?.abort();
      this.#result.textContent = '';
      return;
    }
    const current = this.digest(route);
    const failed = this.#failed?.id === route.drain && this.#failed.search === route.search ? this.#failed : undefined;
    this.#say(route.search, current, failed?.message);
    if (current && latest === this.#basis) return;
    if (this.#timer !== undefined) return;
    // A large drain's search can take longer than the drain takes to change (up to twice a
    // second): restarting it on every change would never let it finish.
    if (this.#loading?.id === route.drain && this.#loading.search === route.search) return;
    // A new search at once; the same search again (the drain moved on, or it failed) at most once a second.
    const wait = current || failed ? Math.max(0, this.#lastLoad + MIN_REFRESH_MS - Date.now()) : 0;
    this.#timer = window.setTimeout(() => {
      this.#timer = undefined;
      // The route as it is by now: the search may have changed while this waited.
      const { route: now, drains } = this.store.state;
      if (now.drain !== undefined && now.search !== undefined) void this.#load(now.drain, now.search, drains.get(now.drain));
    }, wait);
  }

  #search(text: string): void {
    const id = this.store.state.route.drain;
    if (id === undefined) return;
    const address = drainAddress(id, text);
    if (location.hash === address) return;
    // Replaced, not pushed: typing leaves no trail of entries behind the back button.
    history.replaceState(null, '', address);
    this.store.update({ route: routeOf(address) });
  }

  async #load(id: string, search: string, basis: DrainDigest | undefined): Promise<void> {
    this.#inflight?.abort();
    const inflight = (this.#inflight = new AbortController());
    const loading = (this.#loading = { id, search });
    this.#lastLoad = Date.now();
    let shown = false;
    try {
      const path = `/v1/drains/${encodeURIComponent(id)}/summary?${new URLSearchParams({ q: search })}`;
      const digest = await this.api.get<DrainDigest>(path, inflight.signal);
      this.#found = { id, search, digest };
      this.#failed = undefined;
      this.#basis = basis;
      const route = this.store.state.route;
      shown = route.drain === id && route.search === search;
      if (shown) {
        this.#say(search, digest);
        this.found();
      }
    } catch (err) {
      // Said until a fetch succeeds; tried again at the drain's next update, at most once a second.
      if (!inflight.signal.aborted) {
        this.#failed = { id, search, message: (err as Error).message };
        this.#say(search, undefined, this.#failed.message);
      }
    } finally {
      if (this.#loading === loading) this.#loading = undefined;
    }
    // The drain moved on while this was fetched: fetch it again (at most once a second).
    const { route, drains } = this.store.state;
    if (shown && drains.get(id) !== basis) this.follow(route, drains.get(id));
  }

  #say(search: string, digest: DrainDigest | undefined, failure?: string): void {
    const matches = digest?.matches;
    this.#result.textContent =
      failure !== undefined
        ? `The search failed: ${failure}`
        : matches === undefined || matches === null
          ? 'Searching…'
          : matches === 0
            ? `No node of this drain matches “${search}”`
            : `${count(matches)} ${matches === 1 ? 'node matches' : 'nodes match'} “${search}”`;
  }
}
