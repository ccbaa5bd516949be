/**
 * The pager under the node table: where the page stands (`Nodes 301–400 of 10,000`), the page
 * before and after, a page reached by its number (page N of M), and the page size. At 10,000
 * nodes that is 200 pages of 50: Next alone does not get anywhere.
 */
import { byId, h } from './dom.js';
import { count } from './format.js';
import type { NodeList } from './node-list.js';
import { PAGE_SIZES, type Store } from './store.js';

export function pager(store: Store, nodes: NodeList): void {
  const info = byId('page-info');
  const prev = byId<HTMLButtonElement>('prev-page');
  const next = byId<HTMLButtonElement>('next-page');
  const jump = byId<HTMLFormElement>('page-jump');
  const number = byId<HTMLInputElement>('page-number');
  const pages = byId('page-count');
  const size = byId<HTMLSelectElement>('page-size');

  size.replaceChildren(...PAGE_SIZES.map((n) => h('option', { value: String(n) }, String(n))));
  // Another size keeps the first node shown on screen: the page that holds it at the new size.
  size.addEventListener('change', () => {
    const { filter } = store.state;
    const first = (filter.pageNumber - 1) * filter.pageSize;
    const pageSize = Number(size.value);
    nodes.filter({ ...filter, pageSize, pageNumber: Math.floor(first / pageSize) + 1 });
  });
  prev.addEventListener('click', () => nodes.goTo(store.state.filter.pageNumber - 1));
  next.addEventListener('click', () => nodes.goTo(store.state.filter.pageNumber + 1));
  jump.addEventListener('submit', (e) => {
    e.preventDefault();
    if (number.value !== '') nodes.goTo(Number(number.value));
  });

  store.watch(['nodes', 'filter'], ({ nodes: { page }, filter }) => {
    size.value = String(filter.pageSize);
    if (document.activeElement !== number) number.value = String(filter.pageNumber);
    if (!page) return;
    const last = Math.max(1, Math.ceil(page.total / filter.pageSize));
    // An address past the last page (the fleet shrank, or a hand-written link) shows the last one.
    if (page.nodes.length === 0 && page.total > 0 && filter.pageNumber > last) {
      nodes.goTo(last);
      return;
    }
    const first = page.offset;
    info.textContent = page.total === 0 ? 'No node matches' : `Nodes ${count(first + 1)}–${count(first + page.nodes.length)} of ${count(page.total)}`;
    pages.textContent = `of ${count(last)}`;
    number.max = String(last);
    prev.disabled = filter.pageNumber <= 1;
    next.disabled = page.nextCursor === null;
    // One page: no paging to offer; the size is offered once a larger one would show more.
    prev.hidden = next.hidden = jump.hidden = last === 1 && filter.pageNumber === 1;
    size.closest('label')!.hidden = page.total <= PAGE_SIZES[0]! && filter.pageSize === PAGE_SIZES[0];
  });
}
