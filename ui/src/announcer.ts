/**
 * What a screen reader is told as drains move on: a phase starting, a batch starting, a drain
 * ending. Only those steps, never every count change, so the announcements stay listenable.
 */
import { byId } from './dom.js';
import { stateWord } from './format.js';
import type { DrainDigest } from './types.js';

export class Announcer {
  readonly #region = byId('announcer');
  readonly #seen = new Map<string, string>();

  /** Announces what moved on in this drain since its last update (nothing the first time). */
  drain(d: DrainDigest): void {
    const steps = d.phases.map((p) => `${p.name}:${p.state}:${p.batches.length}`).join(' ') + ` ${d.state}`;
    const before = this.#seen.get(d.id);
    this.#seen.set(d.id, steps);
    if (before === undefined || before === steps) return;
    const phase = d.phases[d.phase];
    const message =
      d.state !== 'running'
        ? `Drain ${d.id} ${stateWord(d.state)}.`
        : phase
          ? `Drain ${d.id}: ${phase.name} phase ${phase.state}, batch ${phase.batches.length} of ${phase.total} nodes.`
          : `Drain ${d.id} is running.`;
    this.say(message);
  }

  say(message: string): void {
    // A fresh text node each time, so the same words said twice are still read out.
    this.#region.textContent = '';
    window.setTimeout(() => (this.#region.textContent = message), 50);
  }
}
