/**
 * What can be done to one node of a drain from its row, and only where it applies: skip a node
 * the running drain still waits for (waiting, pushed or ACKed), so it stops holding its batch;
 * retry one that timed out or failed, also once the drain ended (not after a cancel: nothing is
 * left to retry). Each is confirmed first; a refusal says why beside the button, until the next
 * try goes through.
 */
import type { Api } from './api.js';
import { confirmAction } from './confirm.js';
import { h } from './dom.js';
import { daemonButton } from './stale.js';
import type { Store } from './store.js';
import type { DrainDigest, NodeDigest } from './types.js';

type Verb = 'skip' | 'retry';

export class NodeActions {
  /** The last failure of an action, by drain and node: shown until an action on that node goes through. */
  readonly #errors = new Map<string, string>();

  constructor(
    private readonly api: Api,
    private readonly store: Store,
    private readonly refresh: (id: string) => Promise<void>,
    private readonly report: (message: string) => void,
  ) {}

  /** Whether any node of the drain has something to offer (the table gets a column for it). */
  any(d: DrainDigest, nodes: readonly NodeDigest[]): boolean {
    return nodes.some((n) => applicable(d, n) !== undefined || this.#errors.has(key(d, n)));
  }

  /** The node's button and its last error; null when nothing applies. */
  render(d: DrainDigest, n: NodeDigest): HTMLElement | null {
    const verb = applicable(d, n);
    const error = this.#errors.get(key(d, n));
    if (verb === undefined && error === undefined) return null;
    let button: HTMLButtonElement | null = null;
    if (verb !== undefined) {
      const label = verb === 'skip' ? 'Skip' : 'Retry';
      button = daemonButton(this.store, { 'data-key': `${verb}:${n.nodeId}`, 'aria-label': `${label} ${n.nodeId}…` }, `${label}…`);
      button.addEventListener('click', () => void this.#act(d, n, verb));
    }
    return h('div', { class: 'node-actions' }, button, error === undefined ? null : h('p', { class: 'error', role: 'alert' }, error));
  }

  async #act(d: DrainDigest, n: NodeDigest, verb: Verb): Promise<void> {
    const ok = await confirmAction(
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
    );
    if (!ok) return;
    // The last error goes as the next try is sent: an update drawn while it is on its way must not show it.
    this.#errors.delete(key(d, n));
    try {
      await this.api.post(`/v1/drains/${encodeURIComponent(d.id)}/nodes/${encodeURIComponent(n.nodeId)}/${verb}`);
      this.report(`Drain ${d.id}: node ${n.nodeId} ${verb === 'skip' ? 'skipped' : 'retried'}.`);
    } catch (err) {
      this.#errors.set(key(d, n), (err as Error).message);
    }
    // Drawn again either way: the error shows (or goes), and the node is as the daemon has it now.
    await this.refresh(d.id);
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
