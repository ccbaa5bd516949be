/**
 * One phase of a drain as its page shows it: how it ended or stands (nodes that timed out or
 * failed counted as such, never as done), a bar of the nodes drained, its batches (those not
 * started too: "batch 2 of 3"), and the nodes worth a row. Phases read in the order they matter:
 * the running one first; a finished phase is folded while another runs.
 */
import { nodeAddress } from './address.js';
import { connectionChart } from './chart.js';
import { h, type Child } from './dom.js';
import { atMostText, batchLeft } from './drain-overview.js';
import { renderEndpointNodes, endpointTarget } from './endpoint-drain.js';
import { ago, badge, count, nodesText, openConnectionsText } from './format.js';
import type { NodeActions } from './node-actions.js';
import { nodesCaption, nodeCells } from './node-cells.js';
import type { DrainDigest, NodeDigest, PhaseDigest } from './types.js';

/** Whether each phase the operator unfolded or folded is open, by `drain:phase`: redraws keep it. */
export type Folding = Map<string, boolean>;

const ORDER = { running: 0, pending: 1, done: 2 } as const;

export function renderPhases(d: DrainDigest, folding: Folding, actions: NodeActions): HTMLElement[] {
  const ordered = [...d.phases].sort((a, b) => ORDER[a.state] - ORDER[b.state]);
  return ordered.map((p) => renderPhase(d, p, folding, actions));
}

/** A bar of the nodes drained: timed out and failed nodes finished, but did not drain. */
export function drainedBar(label: string, drained: number, total: number): HTMLElement {
  return h('progress', { max: Math.max(1, total), value: drained, 'aria-label': `${label}: ${drained} of ${total} nodes drained` });
}

/** What the nodes that did not drain come to: "2 timed out · 1 failed", or ''. */
export function notDrainedText(counts: PhaseDigest['counts']): string {
  return [counts.timed_out ? `${count(counts.timed_out)} timed out` : '', counts.failed ? `${count(counts.failed)} failed` : '']
    .filter(Boolean)
    .join(' · ');
}

/** A finished phase reads by its worst node: failed, else timed out, else done. */
function phaseLook(d: DrainDigest, p: PhaseDigest): Parameters<typeof badge>[0] {
  // A drain cancelled mid-phase leaves the phase (and its unfinished nodes) where they were: say so.
  if (d.state !== 'running' && p.state === 'running') return d.state;
  if (p.state !== 'done') return p.state;
  return p.counts.failed ? 'failed' : p.counts.timed_out ? 'timed_out' : 'done';
}

function renderPhase(d: DrainDigest, p: PhaseDigest, folding: Folding, actions: NodeActions): HTMLElement {
  const ended = d.state !== 'running';
  const drained = p.counts.drained ?? 0;
  const waiting = p.counts.waiting ?? 0;
  const holding = ended ? 0 : (p.counts.pushed ?? 0) + (p.counts.acked ?? 0);
  const summary = [
    `${count(drained)} of ${count(p.total)} nodes drained`,
    holding > 0 ? `${count(holding)} holding` : '',
    notDrainedText(p.counts),
    waiting > 0 && p.state === 'pending' ? `${nodesText(waiting)} waiting for the phase` : '',
    waiting > 0 && p.state !== 'pending' ? `${count(waiting)} waiting for their batch` : '',
    p.state === 'pending' && p.plannedBatches > 1 ? `in ${p.plannedBatches} batches` : '',
    !ended && p.state === 'running' && d.spec.measure !== 'ack' && holding > 0 ? openConnectionsText(p.connections, p.connectionsUnknown) : '',
  ].filter(Boolean);
  const headingId = `phase-${d.id}-${p.name}`;
  const head: Child[] = [
    h(
      'h3',
      { id: headingId },
      `${p.name} phase `,
      badge(phaseLook(d, p)),
      p.startedAt ? h('span', { class: 'sub' }, ' started ', ago(p.startedAt)) : '',
    ),
    // A span, not a paragraph: it may sit in a <summary>, which holds phrasing content only.
    h(
      'span',
      { class: 'phase-progress' },
      drainedBar(`${p.name} phase`, p.total === 0 && p.state === 'done' ? 1 : drained, p.total),
      ' ',
      summary.join(' · '),
    ),
  ];
  // Waiting nodes make empty rows (the batches not started say where they stand), unless searched for.
  const searched = p.matches !== null;
  const rows = searched ? p.nodes : p.nodes.filter((n) => n.state !== 'waiting');
  const body: Child[] = [
    p.state === 'pending' ? null : renderBatches(d, p),
    searched && rows.length === 0 ? h('p', { class: 'hint' }, `No node of the ${p.name} phase matches`) : null,
    rows.length === 0 ? null : endpointTarget(d.spec) ? renderEndpointNodes(d, p, rows) : renderNodes(d, p, rows, actions),
  ];
  const attrs = { class: `phase${p.state === 'running' ? ' current' : ''}`, 'data-phase': p.name, 'aria-labelledby': headingId };
  if (ended || p.state !== 'done') return h('section', attrs, head, body);
  // Folded while another phase runs, unless the operator unfolded it.
  const key = `${d.id}:${p.name}`;
  // A search unfolds the phases it found nodes in.
  const details = h('details', { ...attrs, open: folding.get(key) ?? (searched && rows.length > 0) }, h('summary', {}, head), body);
  details.addEventListener('toggle', () => folding.set(key, details.open));
  return details;
}

function renderBatches(d: DrainDigest, p: PhaseDigest): HTMLElement | null {
  // Time left only where it still runs down: not in a paused drain, nor one that ended.
  const counting = d.state === 'running' && d.paused === undefined;
  if (p.plannedBatches === 0) return null;
  const started = new Map(p.batches.map((b) => [b.batch, b]));
  const items: HTMLElement[] = [];
  for (let i = 1; i <= Math.max(p.plannedBatches, p.batches.at(-1)?.batch ?? 0); i++) {
    const name = h('span', { class: 'batch-name' }, `Batch ${i} of ${p.plannedBatches}`);
    const b = started.get(i);
    if (!b) {
      items.push(h('li', { class: 'planned' }, name, h('span', { class: 'sub' }, 'not started')));
      continue;
    }
    const notDrained = b.finished - b.drained;
    const left = counting && b.finished < b.nodes ? batchLeft(p, b.batch) : undefined;
    items.push(
      h(
        'li',
        {},
        name,
        drainedBar(`batch ${b.batch}`, b.drained, b.nodes),
        ` ${b.drained}/${b.nodes} drained`,
        notDrained > 0 ? `, ${notDrained} did not drain` : '',
        left === undefined ? null : h('span', { class: 'sub batch-left' }, `${atMostText(left)} (by its deadlines)`),
      ),
    );
  }
  return h('ol', { class: 'batches', 'aria-label': `${p.name} batches` }, items);
}

function renderNodes(d: DrainDigest, p: PhaseDigest, rows: readonly NodeDigest[], actions: NodeActions): HTMLElement {
  const col = (label: string, cls = '') => h('th', { scope: 'col', class: cls }, label);
  const withActions = actions.any(d, rows);
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'drain-nodes cards' },
      h(
        'caption',
        {},
        p.matches === null
          ? nodesCaption(`Nodes of the ${p.name} phase`, rows.length, p.total - (p.counts.waiting ?? 0))
          : nodesCaption(`Nodes of the ${p.name} phase that match`, rows.length, p.matches),
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          col('Node'),
          col('Batch', 'num'),
          col('State'),
          col('Connections', 'num'),
          col('Over time'),
          col('Holding the drain'),
          col('Deadline'),
          withActions ? h('td', {}) : null,
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((n) => renderNode(d, n, withActions ? actions : undefined)),
      ),
    ),
  );
}

function renderNode(d: DrainDigest, n: NodeDigest, actions: NodeActions | undefined): HTMLElement {
  const until = n.finishedAt ? Date.parse(n.finishedAt) : Date.now();
  const cells = nodeCells(n, d.state !== 'running', 1, d.paused !== undefined);
  return h(
    'tr',
    { 'data-node': n.nodeId },
    h('th', { scope: 'row' }, h('a', { class: 'id', href: nodeAddress(n.nodeId), 'data-key': `node:${n.nodeId}` }, n.nodeId)),
    h('td', { class: 'num', 'data-label': 'Batch' }, n.batch ?? '–'),
    cells.state,
    h('td', { class: 'num', 'data-label': 'Connections' }, n.connections === null ? (cells.open ? 'unknown' : '–') : count(n.connections)),
    h('td', { class: 'over-time' }, connectionChart(n.history, until)),
    cells.why,
    cells.deadline,
    actions ? h('td', {}, actions.render(d, n)) : null,
  );
}
