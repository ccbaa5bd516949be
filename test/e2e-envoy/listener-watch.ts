/**
 * Watches one Envoy's dynamic listeners through admin /config_dump while a test runs: for each
 * listener, when Envoy was last seen warming or draining a version, and when it was first seen
 * serving a version marked by a given drain. Times bracket what Envoy did: a sighting's `sentAt`
 * is when the request left (Envoy was in that state at some instant after it), `seenAt` when the
 * answer came back (Envoy was in it at some instant before).
 */
import { DRAIN_METADATA_NAMESPACE } from '../../src/fleet/drain/overlay.js';
import type { DynamicListener, EnvoyProcess } from './envoy-process.js';

const POLL_MS = 50;

export interface Sighting {
  readonly sentAt: number;
  readonly seenAt: number;
}

export class ListenerWatch {
  /** Last sighting of each listener with a warming or draining version. */
  readonly busy = new Map<string, Sighting>();
  /** First sighting of each listener whose active version carries the drain's mark. */
  readonly marked = new Map<string, Sighting>();
  /** The last /config_dump read, by listener name. */
  latest: ReadonlyMap<string, DynamicListener> = new Map();
  #stopped = false;
  readonly #loop: Promise<void>;

  constructor(
    private readonly envoy: EnvoyProcess,
    private readonly drainId: () => string | undefined,
  ) {
    this.#loop = this.#run();
  }

  /** The drain's mark on a listener's active version, if any. */
  static markOf(state: DynamicListener | undefined): string | undefined {
    const mark = state?.active_state?.listener['metadata']?.['filter_metadata']?.[DRAIN_METADATA_NAMESPACE]?.['drain'];
    return typeof mark === 'string' ? mark : undefined;
  }

  /** Envoy holds a warming or draining version of the listener. */
  static busy(state: DynamicListener | undefined): boolean {
    return state?.warming_state !== undefined || state?.draining_state !== undefined;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const sentAt = Date.now();
      const states = await this.envoy.dynamicListeners().catch(() => undefined);
      const seenAt = Date.now();
      if (states) {
        this.latest = new Map(states.map((s) => [s.name, s]));
        const id = this.drainId();
        for (const s of states) {
          if (ListenerWatch.busy(s)) this.busy.set(s.name, { sentAt, seenAt });
          if (id !== undefined && ListenerWatch.markOf(s) === id && !this.marked.has(s.name)) this.marked.set(s.name, { sentAt, seenAt });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
