/**
 * The API token: asked for once, kept for the browser tab (sessionStorage, gone when the tab
 * closes), sent as `Authorization: Bearer` like the CLI's `--token-file`.
 */
import type { TokenSource } from './api.js';
import { byId } from './dom.js';

const KEY = 'drainplane.apiToken';

export class TokenDialog implements TokenSource {
  readonly #dialog = byId<HTMLDialogElement>('token-dialog');
  readonly #input = byId<HTMLInputElement>('token-input');
  readonly #reason = byId<HTMLElement>('token-reason');
  #pending: Promise<string | undefined> | undefined;

  current(): string | undefined {
    return sessionStorage.getItem(KEY) ?? undefined;
  }

  forget(): void {
    sessionStorage.removeItem(KEY);
  }

  /** Opens the dialog (or joins the one already open); resolves with the token entered. */
  ask(why: string): Promise<string | undefined> {
    this.#pending ??= new Promise((resolve) => {
      const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      this.#reason.textContent = why;
      this.#input.value = '';
      this.#dialog.addEventListener(
        'close',
        () => {
          const token = this.#input.value.trim();
          this.#input.value = '';
          this.#pending = undefined;
          returnTo?.focus();
          if (this.#dialog.returnValue === 'ok' && token !== '') {
            sessionStorage.setItem(KEY, token);
            resolve(token);
          } else resolve(undefined);
        },
        { once: true },
      );
      this.#dialog.returnValue = '';
      this.#dialog.showModal();
      this.#input.focus();
    });
    return this.#pending;
  }
}
