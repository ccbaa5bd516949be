/**
 * How the console sends an action on a drain: confirmed first; a refusal is kept by the key of
 * what it was about and said beside its button until the next try goes through; the drain is
 * then read again, so the page shows it as the daemon has it, never as the action hoped.
 */
import type { Api } from './api.js';
import { confirmAction, type ConfirmOptions } from './confirm.js';

export interface PostAction {
  /** What a refusal is kept under (a drain, a node of a drain). */
  readonly key: string;
  readonly drainId: string;
  readonly confirm: ConfirmOptions;
  readonly path: string;
  /** Announced once the daemon took it. */
  readonly done: string;
}

export class ConfirmedPosts {
  /** The last failure by key: shown until an action under that key goes through. */
  readonly #errors = new Map<string, string>();

  constructor(
    private readonly api: Api,
    /** Reads the drain again (the answer to an action is not the summary the page shows). */
    private readonly refresh: (id: string) => Promise<void>,
    private readonly report: (message: string) => void,
  ) {}

  error(key: string): string | undefined {
    return this.#errors.get(key);
  }

  async run(action: PostAction): Promise<void> {
    if (!(await confirmAction(action.confirm))) return;
    // The last error goes as the next try is sent: an update drawn while it is on its way must not show it.
    this.#errors.delete(action.key);
    try {
      await this.api.post(action.path);
      this.report(action.done);
    } catch (err) {
      this.#errors.set(action.key, (err as Error).message);
    }
    // Drawn again either way: the error shows (or goes), and the drain is as the daemon has it now.
    await this.refresh(action.drainId);
  }
}
