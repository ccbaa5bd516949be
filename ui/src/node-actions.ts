/**
 * What can be done to one node of a drain from its row, and only where it applies: skip a node
 * the running drain still waits for (waiting, pushed or ACKed), so it stops holding its batch;
 * retry one that timed out or failed, also once the drain ended (not after a cancel: nothing is
 * left to retry). Each is confirmed first; a refusal says why beside the button, until the next
 * try goes through.
 */
import type { Api } from './api.js';
import { ConfirmedPosts } from './confirmed-posts.js';
import { h } from './dom.js';
import { daemonButton } from './stale.js';
import type { Store } from './store.js';
import type { DrainDigest, NodeDigest } from './types.js';

type Verb = 'skip' | 'retry';

export class NodeActions {
  readonly #posts: ConfirmedPosts;

  constructor(
    api: Api,
    private readonly store: Store,
    refresh: (id: string) => Promise<void>,
    report: (message: string) => void,
  ) {
    this.#posts = new ConfirmedPosts(api, refresh, report);
  }

  /** Whether any node of the drain has something to offer (the table gets a column for it). */
  any(d: DrainDigest, nodes: readonly NodeDigest[]): boolean {
    return nodes.some((n) => applicable(d, n) !== undefined || this.#posts.error(key(d, n)) !== undefined);
  }

  /** The node's button and its last error; null when nothing applies. */
  render(d: DrainDigest, n: NodeDigest): HTMLElement | null {
    const verb = applicable(d, n);
    const error = this.#posts.error(key(d, n));
    if (verb === undefined && error === undefined) return null;
    let button: HTMLButtonElement | null = null;
    if (verb !== undefined) {
      const label = verb === 'skip' ? 'Skip' : 'Retry';
      button = daemonButton(this.store, { 'data-key': `${verb}:${n.nodeId}`, 'aria-label': `${label} ${n.nodeId}…` }, `${label}…`);
      button.addEventListener('click', () => void this.#act(d, n, verb));
    }
    return h('div', { class: 'node-actions' }, button, error === undefined ? null : h('p', { class: 'error', role: 'alert' }, error));
  }

  #act(d: DrainDigest, n: NodeDigest, verb: Verb): Promise<void> {
    return this.#posts.run({
      key: key(d, n),
      drainId: d.id,
      confirm:
        verb === 'skip'
          ? {
              title: `Skip node ${n.nodeId}?`,
              body: h(
                'p',
                {},
                `The drain stops waiting for ${n.nodeId}: its batch goes on without it. A node skipped before its batch started keeps serving.`,
              ),
              confirm: 'Skip the node',
            }
          : {
              title: `Retry node ${n.nodeId}?`,
              body: h('p', {}, `${n.nodeId} starts again with a new deadline; the drain runs again until it finishes.`),
              confirm: 'Retry the node',
            },
      path: `/v1/drains/${encodeURIComponent(d.id)}/nodes/${encodeURIComponent(n.nodeId)}/${verb}`,
      done: `Drain ${d.id}: node ${n.nodeId} ${verb === 'skip' ? 'skipped' : 'retried'}.`,
    });
  }
}

function key(d: DrainDigest, n: NodeDigest): string {
  return `${d.id}\0${n.nodeId}`;
}

function applicable(d: DrainDigest, n: NodeDigest): Verb | undefined {
  if (d.state === 'running' && (n.state === 'waiting' || n.state === 'pushed' || n.state === 'acked')) return 'skip';
  if ((n.state === 'timed_out' || n.state === 'failed') && d.state !== 'cancelled' && !d.retired) return 'retry';
  return undefined;
}
