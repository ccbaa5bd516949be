/**
 * The one poll-until helper of the tests: calls `check` (sync or async) every `intervalMs` until
 * it gives something other than `false` or `undefined`, and returns that. A check that throws
 * counts as not yet. Past `timeoutMs` it throws, naming what it waited for and the last error
 * (or the last value, when the check gave one that says more than `false`).
 */
export function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs?: number, options?: WaitOptions): Promise<void>;
export function waitUntil<T>(
  what: string,
  check: () => T | false | undefined | Promise<T | false | undefined>,
  timeoutMs?: number,
  options?: WaitOptions,
): Promise<T>;
export async function waitUntil<T>(
  what: string,
  check: () => T | false | undefined | Promise<T | false | undefined>,
  timeoutMs = 5_000,
  options: WaitOptions = {},
): Promise<T> {
  const { intervalMs = 20, explain } = options;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (err) {
      last = ` (last error: ${(err as Error).message})`;
    }
    if (Date.now() > deadline) {
      const more = explain === undefined ? '' : ` ${await Promise.resolve().then(explain).catch(String)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}${more}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface WaitOptions {
  /** Time between checks (ms). */
  readonly intervalMs?: number;
  /** More to say in the timeout's message, e.g. the state of what was polled. */
  readonly explain?: () => string | Promise<string>;
}
