/** Building DOM without a framework: elements from a tag, attributes and children. */

export type Child = Node | string | number | null | undefined | false | readonly Child[];

type Attrs = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * `h('td', { class: 'num' }, 12)`: attributes set as given (`true` sets an empty attribute,
 * `false`, null and undefined leave it out), children appended as nodes or text.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(el: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(typeof child === 'number' ? String(child) : (child as Node | string));
  }
}

/** A text field's value in a form's data: '' when the form has no such field (the console has no file inputs). */
export function fieldText(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
}

/** The element with this id; a missing one is a bug in the page, not a state to handle. */
export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no element #${id}`);
  return el as T;
}

/**
 * Replaces the container's content; the element that had focus inside it gets it back in the
 * new content when one there has the same `data-key` (live updates must not throw a keyboard
 * user's focus to the top of the page).
 */
export function replaceContent(container: HTMLElement, ...children: Child[]): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && container.contains(active) ? active.dataset['key'] : undefined;
  container.replaceChildren();
  append(container, children);
  if (key !== undefined) container.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus();
}
