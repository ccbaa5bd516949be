/** How many lines of one kind were left out for one node in a window that ended. */
export interface Suppressed {
  readonly node: string;
  readonly event: string;
  readonly count: number;
  readonly windowMs: number;
}

export interface LineLimiterOptions {
  /** Lines per node and event per window; 0: no limit. */
  readonly linesPerWindow: number;
  /** Default one minute. */
  readonly windowMs?: number;
  readonly now?: () => number;
  /** Called once per node, event and window in which lines were left out, after the window. */
  readonly onSuppressed: (suppressed: Suppressed) => void;
}

interface Window {
  start: number;
  count: number;
  suppressed: number;
}

const DEFAULT_WINDOW_MS = 60_000;
/** Nodes tracked before stale ones are swept; doubles with the live ones. */
const SWEEP_FLOOR = 1024;

/**
 * Lets the first lines of each kind (event) per node through in each window and counts the
 * rest, so that one client cannot fill the log: the count comes out as one summary line when
 * the window ends (on the node's next line of that kind, or from a timer that does not keep
 * the process alive). Windows are fixed, starting at a node's first line of that kind.
 * Checking a line costs two map lookups and a clock read; the nodes tracked are swept when
 * their number doubles, so they stay bounded by those active in one window.
 */
export class LineLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #onSuppressed: (suppressed: Suppressed) => void;
  readonly #nodes = new Map<string, Map<string, Window>>();
  #sweepAt = SWEEP_FLOOR;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LineLimiterOptions) {
    this.#limit = options.linesPerWindow;
    this.#windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.#now = options.now ?? Date.now;
    this.#onSuppressed = options.onSuppressed;
  }

  /** True when this line of `node` may be written. */
  allow(node: string, event: string): boolean {
    if (this.#limit <= 0) return true;
    const now = this.#now();
    let events = this.#nodes.get(node);
    if (!events) {
      if (this.#nodes.size >= this.#sweepAt) this.#sweep(now);
      this.#nodes.set(node, (events = new Map<string, Window>()));
    }
    let window = events.get(event);
    if (!window) events.set(event, (window = { start: now, count: 0, suppressed: 0 }));
    else if (now - window.start >= this.#windowMs) this.#restart(node, event, window, now);
    if (window.count < this.#limit) {
      window.count += 1;
      return true;
    }
    window.suppressed += 1;
    this.#timer ??= setTimeout(() => this.flush(), this.#windowMs).unref();
    return false;
  }

  /** Reports and forgets every window that has ended (the timer calls it; tests may too). */
  flush(): void {
    this.#timer = undefined;
    this.#sweep(this.#now());
    let pending = false;
    for (const events of this.#nodes.values()) for (const w of events.values()) pending ||= w.suppressed > 0;
    if (pending) this.#timer = setTimeout(() => this.flush(), this.#windowMs).unref();
  }

  /** Nodes tracked now. */
  get size(): number {
    return this.#nodes.size;
  }

  /** Stops the timer; counts not reported yet are dropped. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #restart(node: string, event: string, window: Window, now: number): void {
    if (window.suppressed > 0) this.#onSuppressed({ node, event, count: window.suppressed, windowMs: this.#windowMs });
    window.start = now;
    window.count = 0;
    window.suppressed = 0;
  }

  /** Reports the windows that ended with lines left out, and forgets the nodes whose windows all ended. */
  #sweep(now: number): void {
    for (const [node, events] of this.#nodes) {
      for (const [event, window] of events) {
        if (now - window.start < this.#windowMs) continue;
        if (window.suppressed > 0) this.#onSuppressed({ node, event, count: window.suppressed, windowMs: this.#windowMs });
        events.delete(event);
      }
      if (events.size === 0) this.#nodes.delete(node);
    }
    this.#sweepAt = Math.max(SWEEP_FLOOR, 2 * this.#nodes.size);
  }
}
