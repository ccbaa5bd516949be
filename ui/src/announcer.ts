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
    let message = `Drain ${d.id} ${stateWord(d.state)}.`;
    if (d.state === 'running' && phase) {
      const drained = `${phase.counts.drained ?? 0} of ${phase.total} nodes drained`;
      message =
        phase.state === 'running' && phase.batches.length > 0
          ? `Drain ${d.id}: ${phase.name} phase, batch ${phase.batches.length} started; ${drained}.`
          : `Drain ${d.id}: ${phase.name} phase ${stateWord(phase.state)}; ${drained}.`;
    }
    this.say(message);
  }

  say(message: string): void {
    // A fresh text node each time, so the same words said twice are still read out.
    this.#region.textContent = '';
    window.setTimeout(() => (this.#region.textContent = message), 50);
  }
}
