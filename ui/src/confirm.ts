/**
 * The confirm step of an action that changes the fleet: a modal <dialog> that says what will
 * happen, with focus on the safe choice (or on the word to type, for a large drain), Escape to
 * back out, and focus back where it was after.
 */
import { byId, h, replaceContent, type Child } from './dom.js';

export interface ConfirmOptions {
  readonly title: string;
  readonly body: Child;
  /** The confirming button's text: the action itself ("Drain 12 nodes"). */
  readonly confirm: string;
  /**
   * A word to type before the confirming button enables (a cluster's name): for actions too
   * large or too final to be confirmed by a reflex click.
   */
  readonly typed?: string;
}

/** Settles the confirmation still waiting for its close event, as declined. */
let settlePending: (() => void) | undefined;

export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  // One question at a time: an action whose confirm comes late (after a preview's round trip)
  // must not take over a dialog that asks about another.
  if (dialog.open) return Promise.resolve(false);
  const ok = byId<HTMLButtonElement>('confirm-ok');
  const back = byId<HTMLButtonElement>('confirm-back');
  const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  byId('confirm-title').textContent = options.title;
  const typed = options.typed;
  const input =
    typed === undefined ? null : h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'confirm-title' });
  replaceContent(byId('confirm-body'), options.body, input ? h('label', { class: 'typed' }, `Type ${typed} to confirm`, input) : null);
  ok.textContent = options.confirm;
  ok.disabled = input !== null;
  input?.addEventListener('input', () => (ok.disabled = input.value.trim() !== typed));
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
    (input ?? back).focus();
  });
}
