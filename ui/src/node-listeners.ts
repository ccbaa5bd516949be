/**
 * A node's listeners as the fleet list and the node page show them: state, name, role and
 * drain type, and the drain that holds each (with what it did, where there is room for it).
 */
import { h } from './dom.js';
import { badge } from './format.js';
import type { NodeView } from './types.js';

export function nodeListeners(n: NodeView, options: { readonly cls: string; readonly action: boolean }): HTMLElement {
  return h(
    'ul',
    { class: options.cls },
    n.listeners.map((l) =>
      h(
        'li',
        {},
        badge(l.state),
        ' ',
        h('span', { class: 'id' }, l.name),
        h('span', { class: 'sub' }, ` ${l.role} · ${l.drainType}`),
        l.drain
          ? [
              ' ',
              h('a', { href: `#/drains/${l.drain.id}`, 'data-key': `drain:${n.id}:${l.name}` }, `by ${l.drain.id}`),
              options.action ? h('span', { class: 'sub' }, ` (${l.drain.action})`) : null,
            ]
          : null,
      ),
    ),
  );
}
