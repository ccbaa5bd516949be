/**
 * Requests that failed the token check (401), counted per client address over fixed one-minute
 * windows. Past the limit, the address gets 429 before any token it sends is looked at, until
 * its window ends: guessing tokens is slowed to the limit, and a lucky guess while blocked is
 * not told apart from a wrong one.
 */
export const AUTH_FAILURES_PER_MINUTE = 30;

const WINDOW_MS = 60_000;
/** Windows kept before expired ones are swept, so that many addresses cannot grow memory. */
const SWEEP_AT = 10_000;

export class AuthFailureLimiter {
  readonly #windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly perMinute = AUTH_FAILURES_PER_MINUTE,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until this address may try a token again; 0 when it may now. */
  blockedFor(address: string): number {
    const window = this.#current(address);
    if (!window || window.failures < this.perMinute) return 0;
    return Math.ceil((window.start + WINDOW_MS - this.now()) / 1000);
  }

  recordFailure(address: string): void {
    const window = this.#current(address);
    if (window) window.failures += 1;
    else {
      if (this.#windows.size >= SWEEP_AT) this.#sweep();
      this.#windows.set(address, { start: this.now(), failures: 1 });
    }
  }

  #current(address: string): { start: number; failures: number } | undefined {
    const window = this.#windows.get(address);
    if (window && this.now() - window.start >= WINDOW_MS) {
      this.#windows.delete(address);
      return undefined;
    }
    return window;
  }

  #sweep(): void {
    const now = this.now();
    for (const [address, window] of this.#windows) if (now - window.start >= WINDOW_MS) this.#windows.delete(address);
  }
}
