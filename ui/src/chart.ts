/**
 * A node's connections over time as a small step chart (SVG): the counts only change when
 * Envoy reports, so the line holds each value until the next sample, and runs on to now (or to
 * when the node finished).
 */
import { svg } from './dom.js';
import { duration } from './format.js';

/** A table cell's chart. */
const CELL = { width: 120, height: 28 } as const;
const PAD = 2;

/** `size`: larger than a table cell's, for a chart that stands on its own (a node's, a drain's). */
export function connectionChart(
  samples: readonly (readonly [number, number])[],
  until: number,
  size: { readonly width: number; readonly height: number } = CELL,
): SVGElement {
  const { width, height } = size;
  const label = describe(samples, until);
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label });
  chart.append(svg('title', {}, label));
  if (samples.length === 0) return chart;
  const start = samples[0]![0];
  const end = Math.max(until, samples.at(-1)![0], start + 1000);
  const max = Math.max(1, ...samples.map(([, c]) => c));
  const x = (t: number) => PAD + ((t - start) / (end - start)) * (width - 2 * PAD);
  const y = (c: number) => height - PAD - (c / max) * (height - 2 * PAD);
  let d = `M${x(start).toFixed(1)},${y(samples[0]![1]).toFixed(1)}`;
  for (let i = 1; i < samples.length; i++) {
    const [t, c] = samples[i]!;
    d += ` H${x(t).toFixed(1)} V${y(c).toFixed(1)}`;
  }
  d += ` H${x(end).toFixed(1)}`;
  chart.append(
    svg('line', { class: 'axis', x1: PAD, x2: width - PAD, y1: height - PAD, y2: height - PAD }),
    svg('path', { class: 'line', d, fill: 'none' }),
  );
  return chart;
}

function describe(samples: readonly (readonly [number, number])[], until: number): string {
  if (samples.length === 0) return 'no connection counts measured yet';
  const first = samples[0]!;
  const last = samples.at(-1)!;
  if (samples.length === 1) return `${last[1]} connection(s), measured once`;
  return `connections from ${first[1]} to ${last[1]} over ${duration(Math.max(until, last[0]) - first[0])}`;
}
