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

/** Settles the confirmation still waiting for its close event, as declined. */
let settlePending: (() => void) | undefined;

export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  const ok = byId<HTMLButtonElement>('confirm-ok');
  const back = byId<HTMLButtonElement>('confirm-back');
  const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  byId('confirm-title').textContent = options.title;
  replaceContent(byId('confirm-body'), options.body);
  ok.textContent = options.confirm;
  // The close event of a dialog closed by Escape is queued behind input: a key that opens the
  // dialog again can come first. That late event must neither answer this confirmation (the
  // dialog is open again) nor leave the earlier one waiting for the next close.
  settlePending?.();
  return new Promise((resolve) => {
    const onClose = (): void => {
      if (dialog.open) return;
      dialog.removeEventListener('close', onClose);
      settlePending = undefined;
      returnTo?.focus();
      resolve(dialog.returnValue === 'ok');
    };
    settlePending = () => {
      dialog.removeEventListener('close', onClose);
      resolve(false);
    };
    dialog.addEventListener('close', onClose);
    dialog.returnValue = '';
    dialog.showModal();
    back.focus();
  });
}
