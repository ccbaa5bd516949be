/**
 * Small shapes that go with state words, so a state reads by shape and text as well as colour
 * (drawn as SVG: no icon font, nothing to load).
 */
import { svg } from './dom.js';

export type IconName = 'dot' | 'half' | 'ring' | 'cross' | 'check' | 'clock' | 'play' | 'up' | 'slash' | 'warn';

const SHAPES: Readonly<Record<IconName, () => SVGElement[]>> = {
  dot: () => [svg('circle', { cx: 8, cy: 8, r: 5, fill: 'currentColor' })],
  half: () => [
    svg('circle', { cx: 8, cy: 8, r: 5, fill: 'none', stroke: 'currentColor', 'stroke-width': 2 }),
    svg('path', { d: 'M8 3 A5 5 0 0 1 8 13 Z', fill: 'currentColor' }),
  ],
  ring: () => [svg('circle', { cx: 8, cy: 8, r: 5, fill: 'none', stroke: 'currentColor', 'stroke-width': 2 })],
  cross: () => [svg('path', { d: 'M4 4 L12 12 M12 4 L4 12', stroke: 'currentColor', 'stroke-width': 2.5, 'stroke-linecap': 'round' })],
  check: () => [svg('path', { d: 'M3 8.5 L6.5 12 L13 4.5', fill: 'none', stroke: 'currentColor', 'stroke-width': 2.5, 'stroke-linecap': 'round' })],
  clock: () => [
    svg('circle', { cx: 8, cy: 8, r: 6, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.8 }),
    svg('path', { d: 'M8 4.5 V8 L10.5 9.5', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.8, 'stroke-linecap': 'round' }),
  ],
  play: () => [svg('path', { d: 'M4.5 3 L13 8 L4.5 13 Z', fill: 'currentColor' })],
  up: () => [svg('path', { d: 'M8 3 L13 9 H10 V13 H6 V9 H3 Z', fill: 'currentColor' })],
  slash: () => [
    svg('circle', { cx: 8, cy: 8, r: 5.5, fill: 'none', stroke: 'currentColor', 'stroke-width': 2 }),
    svg('path', { d: 'M4.2 11.8 L11.8 4.2', stroke: 'currentColor', 'stroke-width': 2 }),
  ],
  warn: () => [
    svg('path', { d: 'M8 2 L14.5 13.5 H1.5 Z', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.8, 'stroke-linejoin': 'round' }),
    svg('path', { d: 'M8 6.5 V9.5 M8 11.3 V11.5', stroke: 'currentColor', 'stroke-width': 1.8, 'stroke-linecap': 'round' }),
  ],
};

/** A 1em icon, hidden from assistive technology: the word next to it says the same. */
export function icon(name: IconName): SVGElement {
  return svg('svg', { class: 'icon', viewBox: '0 0 16 16', width: 16, height: 16, 'aria-hidden': 'true', focusable: 'false' }, ...SHAPES[name]());
}
