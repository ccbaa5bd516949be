/**
 * What a drain's node row says about the node whatever the drain takes (listeners or backend
 * endpoints): its state, why it holds the drain, and the time left to its deadline.
 */
import { h } from './dom.js';
import { badge, count, duration, stateWord, untilDeadline } from './format.js';
import type { NodeDigest } from './types.js';

export interface NodeCells {
  /** Still draining: counts not known yet read "unknown", as they may still change. */
  readonly open: boolean;
  readonly state: HTMLTableCellElement;
  readonly why: HTMLTableCellElement;
  readonly deadline: HTMLTableCellElement;
}

/**
 * `rowspan`: the node's rows, when it has one per endpoint. `paused`: the deadline reads as a
 * time, not a countdown, so nothing on the page suggests the drain moves on.
 */
export function nodeCells(n: NodeDigest, drainEnded: boolean, rowspan = 1, paused = false): NodeCells {
  const unfinished = !['drained', 'timed_out', 'failed', 'skipped'].includes(n.state);
  const open = unfinished && n.state !== 'waiting' && !drainEnded;
  const why =
    n.holding ??
    n.error ??
    n.note ??
    (n.state === 'drained' && n.startedAt && n.finishedAt ? `drained in ${duration(Date.parse(n.finishedAt) - Date.parse(n.startedAt))}` : '–');
  const span = rowspan > 1 ? rowspan : undefined;
  return {
    open,
    state: h(
      'td',
      { rowspan: span, 'data-label': 'State' },
      drainEnded && unfinished ? badge('cancelled', `(was ${stateWord(n.state)})`) : badge(n.state),
    ),
    why: h('td', { rowspan: span, class: n.holding ? 'holding' : n.error ? 'error' : '', 'data-label': 'Holding the drain' }, why),
    deadline: h(
      'td',
      { rowspan: span, 'data-label': 'Deadline' },
      !open || !n.deadlineAt ? '–' : paused ? deadlineTime(n.deadlineAt) : untilDeadline(n.deadlineAt),
    ),
  };
}

/** The caption of a phase's node table: `what` are its nodes, and how many are shown. */
export function nodesCaption(what: string, shown: number, total: number): string {
  return shown < total ? `${what}, those holding the drain first: ${shown} of ${count(total)} shown` : `${what}, those holding the drain first`;
}
/** A deadline as the time it falls, for a paused drain: no countdown. */
function deadlineTime(iso: string): HTMLElement {
  return h('time', { datetime: iso }, `at ${new Date(iso).toLocaleTimeString('en-GB')}`);
}
