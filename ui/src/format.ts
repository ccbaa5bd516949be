/** How states, times and numbers read on the page: a word and a shape for every state. */
import { h } from './dom.js';
import { icon, type IconName } from './icons.js';
import type { DrainDigest, DrainSpec, DrainState, EndpointTarget, ListenerState, NodePhaseState, Selector } from './types.js';

type AnyState = ListenerState | DrainState | NodePhaseState | 'connected' | 'disconnected' | 'pending' | 'done' | 'nack';

const LOOK: Readonly<Record<AnyState, { word: string; icon: IconName; tone: string }>> = {
  serving: { word: 'serving', icon: 'dot', tone: 'ok' },
  draining: { word: 'draining', icon: 'half', tone: 'busy' },
  gone: { word: 'gone', icon: 'cross', tone: 'off' },
  connected: { word: 'connected', icon: 'dot', tone: 'ok' },
  disconnected: { word: 'disconnected', icon: 'ring', tone: 'off' },
  running: { word: 'running', icon: 'play', tone: 'busy' },
  completed: { word: 'completed', icon: 'check', tone: 'ok' },
  timed_out: { word: 'timed out', icon: 'clock', tone: 'bad' },
  failed: { word: 'failed', icon: 'cross', tone: 'bad' },
  skipped: { word: 'skipped', icon: 'slash', tone: 'off' },
  cancelled: { word: 'cancelled', icon: 'slash', tone: 'off' },
  waiting: { word: 'waiting', icon: 'ring', tone: 'off' },
  pushed: { word: 'pushed', icon: 'up', tone: 'busy' },
  acked: { word: 'acked, draining', icon: 'half', tone: 'busy' },
  drained: { word: 'drained', icon: 'check', tone: 'ok' },
  pending: { word: 'pending', icon: 'ring', tone: 'off' },
  done: { word: 'done', icon: 'check', tone: 'ok' },
  nack: { word: 'NACK', icon: 'warn', tone: 'bad' },
};

/** A state as a badge: shape, word, and a colour that only repeats what those say. */
export function badge(state: AnyState, extra?: string): HTMLElement {
  const look = LOOK[state];
  return h('span', { class: `badge tone-${look.tone}`, 'data-state': state }, icon(look.icon), ' ', look.word, extra ? ` ${extra}` : '');
}

export function stateWord(state: AnyState): string {
  return LOOK[state].word;
}

export function count(n: number): string {
  return n.toLocaleString('en');
}

/** "1 node", "58 nodes". */
export function nodesText(n: number): string {
  return `${count(n)} ${n === 1 ? 'node' : 'nodes'}`;
}

/** Ids in the order they are read: `10.2.1.2` before `10.2.1.10` (the API lists nodes so too). */
export const byIdNaturally = new Intl.Collator('en', { numeric: true }).compare;

/** "12s", "4m05s", "2h03m". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "12s ago", with the exact time in a <time> element for a tooltip; kept current by tickClock(). */
export function ago(iso: string | undefined | null): HTMLElement | string {
  if (!iso) return '–';
  return h('time', { datetime: iso, title: new Date(iso).toLocaleString(), 'data-ago': '' }, agoText(iso));
}

/** "in 42s", or "passed 3s ago"; kept current by tickClock(). */
export function untilDeadline(iso: string): HTMLElement {
  return h('time', { datetime: iso, 'data-deadline': '' }, deadlineText(iso));
}

/**
 * Once a second, times on the page move on without anything being fetched or redrawn. Deadlines
 * stand still while `frozen()`: with the daemon out of reach, a countdown would claim the node is
 * still followed.
 */
export function tickClock(frozen: () => boolean): void {
  window.setInterval(() => {
    for (const el of document.querySelectorAll<HTMLTimeElement>('time[data-ago]')) el.textContent = agoText(el.dateTime);
    if (frozen()) return;
    for (const el of document.querySelectorAll<HTMLTimeElement>('time[data-deadline]')) el.textContent = deadlineText(el.dateTime);
  }, 1000);
}

function agoText(iso: string): string {
  return `${duration(Date.now() - Date.parse(iso))} ago`;
}

function deadlineText(iso: string): string {
  const left = Date.parse(iso) - Date.now();
  return left >= 0 ? `in ${duration(left)}` : `passed ${duration(-left)} ago`;
}

export function selectorText(s: Selector): string {
  const parts: string[] = [];
  if (s.cluster !== undefined) parts.push(`cluster=${s.cluster}`);
  for (const key of ['region', 'zone', 'subZone'] as const) {
    const v = s.locality?.[key];
    if (v !== undefined) parts.push(`${key}=${v}`);
  }
  for (const [k, v] of Object.entries(s.metadata ?? {})) parts.push(`metadata.${k}=${v}`);
  if (s.ids) parts.push(s.ids.length <= 3 ? `ids=${s.ids.join('|')}` : `${s.ids.length} ids`);
  return parts.join(', ');
}

/** When a node counts as drained, in words. */
export function drainedAtText(spec: Pick<DrainSpec, 'measure' | 'threshold'>): string {
  if (spec.measure === 'ack') return 'the ACK';
  if (spec.measure === 'listener-drain') return "the end of Envoy's listener drain";
  return `≤ ${spec.threshold} connection(s)`;
}

/** Open connections of a phase: a count drainplane does not know reads "unknown", never 0. */
export function openConnectionsText(connections: number | null, unknown: number): string {
  if (connections === null) return 'connections unknown';
  return unknown > 0 ? `${count(connections)}+ connection(s) open (${count(unknown)} node(s) unknown)` : `${count(connections)} connection(s) open`;
}

export function scopeText(d: Pick<DrainDigest, 'spec'>): string {
  const scope = d.spec.scope;
  if (typeof scope === 'string') return scope;
  if ('listeners' in scope) return `listeners ${scope.listeners.join(', ')}`;
  const e = scope.endpoints;
  return `endpoints ${targetText(e)}${e.remove === true ? ' (then removed)' : ''}`;
}

/** An endpoint drain's target in one line: `10.0.3.7:8080, cluster app, zone=a, version=v2`. */
export function targetText(t: EndpointTarget): string {
  return [
    ...(t.addresses ?? []),
    ...(t.cluster !== undefined ? [`cluster ${t.cluster}`] : []),
    ...(localityCriteria(t) ?? []),
    ...(labelCriteria(t) ?? []),
  ].join(', ');
}

/** The locality criteria of a target (`zone=a`), or undefined when it names none. */
export function localityCriteria(t: EndpointTarget): string[] | undefined {
  const named = (['region', 'zone', 'subZone'] as const).flatMap((k) => (t.locality?.[k] !== undefined ? [`${k}=${t.locality[k]}`] : []));
  return named.length > 0 ? named : undefined;
}

/** The load balancing labels of a target (`version=v2`), or undefined when it names none. */
export function labelCriteria(t: EndpointTarget): string[] | undefined {
  const named = Object.entries(t.metadata ?? {}).map(([k, v]) => `${k}=${v}`);
  return named.length > 0 ? named : undefined;
}

/** "edge · us-east-1/us-east-1a", leaving out what is empty. */
export function localityText(g: { cluster?: string; region: string; zone: string; subZone: string }): string {
  const where = [g.region, g.zone, g.subZone].filter(Boolean).join('/') || 'no locality';
  return g.cluster === undefined ? where : `${g.cluster || '(no cluster)'} · ${where}`;
}
