/**
 * The confirm step of an action that changes the fleet: a modal <dialog> that says what will
 * happen, with focus on the safe choice, Escape to back out, and focus back where it was after.
 */
import { byId, replaceContent, type Child } from './dom.js';

export interface ConfirmOptions {
  readonly title: string;
  readonly body: Child;
  /** The confirming button's text: the action itself ("Start the drain"). */
  readonly confirm: string;
}

export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  const ok = byId<HTMLButtonElement>('confirm-ok');
  const back = byId<HTMLButtonElement>('confirm-back');
  const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  byId('confirm-title').textContent = options.title;
  replaceContent(byId('confirm-body'), options.body);
  ok.textContent = options.confirm;
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        returnTo?.focus();
        resolve(dialog.returnValue === 'ok');
      },
      { once: true },
    );
    dialog.returnValue = '';
    dialog.showModal();
    back.focus();
  });
}
