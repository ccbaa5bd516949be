/**
 * What can be done to a drain from its page, and only what applies to it now: a running drain is
 * paused or resumed, cancelled or has its egress phase started; one that ended (completed, timed out, failed) is
 * restored: the same cancel, which the API accepts after the end, brings back what it removed.
 * Each is confirmed first. An action that does not go through says why beside its button, until
 * the next try; the drain is shown as the daemon has it, never as the action hoped.
 */
import type { Api } from './api.js';
import type { ConfirmOptions } from './confirm.js';
import { ConfirmedPosts } from './confirmed-posts.js';
import { h } from './dom.js';
import { endpointTarget } from './endpoint-drain.js';
import { daemonButton } from './stale.js';
import type { Store } from './store.js';
import type { DrainDigest } from './types.js';

type Verb = 'pause' | 'resume' | 'cancel' | 'advance' | 'restore';

export class DrainActions {
  readonly #posts: ConfirmedPosts;

  constructor(
    api: Api,
    private readonly store: Store,
    /** Reads the drain again (the answer to an action is not the summary the page shows). */
    refresh: (id: string) => Promise<void>,
    report: (message: string) => void,
  ) {
    this.#posts = new ConfirmedPosts(api, refresh, report);
  }

  /** The buttons of what applies to the drain now, and the last error beside them; null when nothing applies. */
  render(d: DrainDigest): HTMLElement | null {
    const buttons = applicable(d).map((verb) => {
      const { label, cls } = BUTTONS[verb];
      const button = daemonButton(this.store, { class: cls, 'data-key': verb }, label);
      button.addEventListener('click', () => void this.#act(d, verb));
      return button;
    });
    const error = this.#posts.error(d.id);
    if (buttons.length === 0 && error === undefined) return null;
    return h('div', { class: 'actions' }, buttons, error === undefined ? null : h('p', { class: 'error', role: 'alert' }, error));
  }

  #act(d: DrainDigest, verb: Verb): Promise<void> {
    return this.#posts.run({
      key: d.id,
      drainId: d.id,
      confirm: confirmation(d, verb),
      path: `/v1/drains/${encodeURIComponent(d.id)}/${verb === 'restore' ? 'cancel' : verb}`,
      done: DONE[verb](d.id),
    });
  }
}

const BUTTONS: Readonly<Record<Verb, { label: string; cls: string }>> = {
  pause: { label: 'Pause…', cls: '' },
  resume: { label: 'Resume…', cls: '' },
  advance: { label: 'Start egress phase…', cls: '' },
  cancel: { label: 'Cancel drain…', cls: 'danger' },
  restore: { label: 'Restore…', cls: 'danger' },
};

const DONE: Readonly<Record<Verb, (id: string) => string>> = {
  pause: (id) => `Drain ${id} paused.`,
  resume: (id) => `Drain ${id} resumed.`,
  advance: (id) => `Drain ${id}: egress phase started.`,
  cancel: (id) => `Drain ${id} cancelled.`,
  restore: (id) => `Drain ${id} restored.`,
};

function applicable(d: DrainDigest): Verb[] {
  if (d.state === 'running') {
    const egressWaits = !endpointTarget(d.spec) && d.phases.length === 2 && d.phases[1]!.state === 'pending';
    return [d.paused ? 'resume' : 'pause', ...(egressWaits ? (['advance'] as const) : []), 'cancel'];
  }
  // Nothing to restore after a cancel, a drain made history, or Envoy's drain_listeners (it cannot be undone).
  if (d.state === 'cancelled' || d.retired || d.spec.method === 'drain-listeners') return [];
  return ['restore'];
}

function confirmation(d: DrainDigest, verb: Verb): ConfirmOptions {
  const restored = endpointTarget(d.spec)
    ? 'the endpoints it marked DRAINING (or left out) serve again on every node.'
    : 'the listeners it removed or changed come back on its nodes.';
  switch (verb) {
    case 'pause':
      return {
        title: `Pause drain ${d.id}?`,
        body: h('p', {}, 'No batch or phase starts until it is resumed; nodes already draining go on to their end or their deadline.'),
        confirm: 'Pause the drain',
      };
    case 'resume':
      return { title: `Resume drain ${d.id}?`, body: h('p', {}, 'The next batch starts at once.'), confirm: 'Resume the drain' };
    case 'cancel':
      return { title: `Cancel drain ${d.id}?`, body: h('p', {}, `The drain ends now and ${restored}`), confirm: 'Cancel the drain' };
    case 'restore':
      return {
        title: `Restore what drain ${d.id} removed?`,
        body: h('p', {}, `The drain ${d.state === 'completed' ? 'completed' : 'ended'}; restoring it cancels it: ${restored}`),
        confirm: 'Restore',
      };
    case 'advance':
      return {
        title: `Start the egress phase of ${d.id}?`,
        body: h('p', {}, 'Egress listeners of its nodes start draining now; the application can no longer call out through them.'),
        confirm: 'Start egress',
      };
  }
}
