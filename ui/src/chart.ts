/**
 * A node's connections over time as a small step chart (SVG): the counts only change when
 * Envoy reports, so the line holds each value until the next sample, and runs on to now (or to
 * when the node finished).
 */
import { svg } from './dom.js';
import { duration } from './format.js';

const WIDTH = 120;
const HEIGHT = 28;
const PAD = 2;

export function connectionChart(samples: readonly (readonly [number, number])[], until: number): SVGElement {
  const label = describe(samples, until);
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: 'img', 'aria-label': label });
  chart.append(svg('title', {}, label));
  if (samples.length === 0) return chart;
  const start = samples[0]![0];
  const end = Math.max(until, samples.at(-1)![0], start + 1000);
  const max = Math.max(1, ...samples.map(([, c]) => c));
  const x = (t: number) => PAD + ((t - start) / (end - start)) * (WIDTH - 2 * PAD);
  const y = (c: number) => HEIGHT - PAD - (c / max) * (HEIGHT - 2 * PAD);
  let d = `M${x(start).toFixed(1)},${y(samples[0]![1]).toFixed(1)}`;
  for (let i = 1; i < samples.length; i++) {
    const [t, c] = samples[i]!;
    d += ` H${x(t).toFixed(1)} V${y(c).toFixed(1)}`;
  }
  d += ` H${x(end).toFixed(1)}`;
  chart.append(
    svg('line', { class: 'axis', x1: PAD, x2: WIDTH - PAD, y1: HEIGHT - PAD, y2: HEIGHT - PAD }),
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
