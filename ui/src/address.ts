/**
 * The console's addresses: every view has one, so a link, a reload or the back button opens the
 * same view. `#/fleet?q=edge&cluster=..&zone=..&state=gone&connected=1&size=200&page=3` (the node
 * filter and the page),
 * `#/drains`, `#/drains/new` (the drain form), `#/drains/ID` (`?q=PART`: its nodes searched for),
 * `#/nodes/ID` (a node's page).
 */
import type { ConsoleState, NodeFilter } from './store.js';
import { NO_FILTER, PAGE_SIZES } from './store.js';
import type { ListenerState } from './types.js';

const STATES: readonly string[] = ['serving', 'draining', 'gone'] satisfies readonly ListenerState[];

export function routeOf(hash: string): ConsoleState['route'] {
  const path = hash.split('?')[0]!;
  if (path === '#/drains/new') return { view: 'drains', form: true };
  const drain = /^#\/drains\/([\w-]+)$/.exec(path)?.[1];
  if (drain !== undefined) {
    const search = new URLSearchParams(hash.split('?')[1] ?? '').get('q')?.trim() ?? '';
    return search === '' ? { view: 'drains', drain } : { view: 'drains', drain, search };
  }
  // Node ids are the operator's (dots, slashes, colons): written encoded, read decoded.
  const node = /^#\/nodes\/(.+)$/.exec(path)?.[1];
  if (node !== undefined) return { view: 'fleet', node: decodeURIComponent(node) };
  return { view: path.startsWith('#/drains') ? 'drains' : 'fleet' };
}

/** The node filter an address names; what it does not name is left unfiltered. */
export function filterOf(hash: string): NodeFilter {
  const params = new URLSearchParams(hash.split('?')[1] ?? '');
  const state = params.get('state') ?? '';
  return {
    q: params.get('q') ?? '',
    cluster: params.get('cluster') ?? '',
    zone: params.get('zone') ?? '',
    state: STATES.includes(state) ? (state as NodeFilter['state']) : '',
    connected: params.get('connected') === '1',
    pageSize: PAGE_SIZES.includes(Number(params.get('size'))) ? Number(params.get('size')) : NO_FILTER.pageSize,
    pageNumber: Math.max(1, Math.trunc(Number(params.get('page'))) || 1),
  };
}

/** The fleet view's address with this filter: only what filters is written. */
export function fleetAddress(filter: NodeFilter): string {
  const params = new URLSearchParams();
  for (const key of ['q', 'cluster', 'zone', 'state'] as const) if (filter[key] !== NO_FILTER[key]) params.set(key, filter[key]);
  if (filter.connected) params.set('connected', '1');
  if (filter.pageSize !== NO_FILTER.pageSize) params.set('size', String(filter.pageSize));
  if (filter.pageNumber !== NO_FILTER.pageNumber) params.set('page', String(filter.pageNumber));
  const query = params.toString();
  return query === '' ? '#/fleet' : `#/fleet?${query}`;
}

/** The address of a drain's page, with its search. */
export function drainAddress(id: string, search = ''): string {
  return search.trim() === '' ? `#/drains/${id}` : `#/drains/${id}?${new URLSearchParams({ q: search.trim() })}`;
}

/** The address of a node's page. */
export function nodeAddress(id: string): string {
  return `#/nodes/${encodeURIComponent(id)}`;
}
