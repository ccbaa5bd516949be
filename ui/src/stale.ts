/**
 * While the daemon cannot be reached the page says so: a banner with since when its data dates,
 * the data greyed, and every action that needs the daemon blocked (it would fail, or act on a
 * state that has moved on since). All of it clears once the event stream is live again.
 */
import { byId, h, replaceContent } from './dom.js';
import type { ConsoleState, Store } from './store.js';

/** Whether what the page shows may be out of date: the stream broke and is not back yet. */
export function isStale(live: ConsoleState['live']): boolean {
  return live.state === 'reconnecting';
}

/** The attribute of a button that needs the daemon; it is blocked while the daemon is out of reach. */
export const NEEDS_DAEMON = 'data-needs-daemon';

export function staleBanner(store: Store): void {
  const banner = byId('stale-banner');
  const main = byId('main');
  let since: Date | undefined;
  store.watch(['live'], ({ live }) => {
    const stale = isStale(live);
    if (!stale) since = undefined;
    else since ??= new Date();
    if (stale) main.dataset['stale'] = 'true';
    else delete main.dataset['stale'];
    for (const button of document.querySelectorAll<HTMLButtonElement>(`button[${NEEDS_DAEMON}]`)) button.disabled = stale;
    if (!since) {
      replaceContent(banner);
      return;
    }
    // Rewritten per retry only when its words change, so a screen reader hears it once.
    const text =
      `drainplane cannot be reached (${live.detail ?? 'no answer'}): the data shown is from ` +
      `${since.toLocaleTimeString('en-GB')} and may be out of date. Actions are blocked until it answers again.`;
    if (banner.textContent !== text) replaceContent(banner, h('p', { role: 'alert', class: 'stale' }, text));
  });
}

/** A button that needs the daemon: `disabled` from the start while it is out of reach. */
export function daemonButton(store: Store, attrs: Record<string, string>, label: string): HTMLButtonElement {
  return h('button', { type: 'button', ...attrs, [NEEDS_DAEMON]: true, disabled: isStale(store.state.live) }, label);
}
