/**
 * The client load in a worker thread of its own (load-worker.ts), driven from here. The load
 * saturates its event loop by design; kept apart, it cannot delay the drain API calls, the
 * replicas' connection reports or the scenario's clocks.
 */
import { Worker } from 'node:worker_threads';
import type { LoadOptions, RunOptions, StreamOutcome, UnaryTally } from './load.js';

/** What the scenario asks of the load thread. Each request gets one response with its id. */
export type LoadRequest =
  | { id: number; op: 'connect'; timeoutMs: number }
  /** Answered with the run's UnaryTally once it is over. One run at a time. */
  | { id: number; op: 'run'; run: RunOptions }
  /** Answered once the current run has started `n` RPCs, or is over. */
  | { id: number; op: 'when-sent'; n: number }
  | { id: number; op: 'release' }
  /** Answered with OpenedStreams once every stream has its first reply or has failed. */
  | { id: number; op: 'open-streams'; count: number; replies: number; intervalMs: number }
  /** Answered with the batch's StreamOutcome[] once every stream of it is over. */
  | { id: number; op: 'stream-outcomes'; batch: number }
  | { id: number; op: 'close' };

export type LoadResponse = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: string };

export interface OpenedStreams {
  batch: number;
  /** Per stream, the node that sent its first reply; undefined for a stream that failed first. */
  nodes: (string | undefined)[];
}

export interface ThreadRun {
  whenSent(n: number): Promise<void>;
  /** Lets the run end once it has started its `rpcs`. */
  release(): Promise<void>;
  readonly done: Promise<UnaryTally>;
}

const WORKER = new URL('./load-worker.js', import.meta.url);
const CLOSE_TIMEOUT_MS = 5000;

type Unsent<R> = R extends unknown ? Omit<R, 'id'> : never;

export class LoadThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private ended: Error | undefined;

  constructor(opts: LoadOptions) {
    this.worker = new Worker(WORKER, { workerData: opts });
    this.worker.on('message', (res: LoadResponse) => {
      const waiter = this.pending.get(res.id);
      if (!waiter) return;
      this.pending.delete(res.id);
      if (res.ok) waiter.resolve(res.value);
      else waiter.reject(new Error(`load thread: ${res.error}`));
    });
    this.worker.on('error', (err) => this.end(new Error(`load thread failed: ${err.message}`, { cause: err })));
    this.worker.on('exit', (code) => this.end(new Error(`load thread exited (code ${code})`)));
  }

  async connect(timeoutMs: number): Promise<void> {
    await this.request({ op: 'connect', timeoutMs });
  }

  run(run: RunOptions): ThreadRun {
    const done = this.request({ op: 'run', run }) as Promise<UnaryTally>;
    // A caller that fails before it awaits the run (then closes the thread) must not leave an
    // unhandled rejection behind; one that awaits it still gets the error.
    done.catch(() => {});
    return {
      whenSent: async (n) => void (await this.request({ op: 'when-sent', n })),
      release: async () => void (await this.request({ op: 'release' })),
      done,
    };
  }

  openStreams(count: number, replies: number, intervalMs: number): Promise<OpenedStreams> {
    return this.request({ op: 'open-streams', count, replies, intervalMs }) as Promise<OpenedStreams>;
  }

  streamOutcomes(batch: number): Promise<StreamOutcome[]> {
    return this.request({ op: 'stream-outcomes', batch }) as Promise<StreamOutcome[]>;
  }

  /** Closes the channels and ends the thread; safe to call more than once. */
  async close(): Promise<void> {
    if (!this.ended) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
      await Promise.race([this.request({ op: 'close' }).catch(() => {}), timeout]).finally(() => clearTimeout(timer));
    }
    await this.worker.terminate();
  }

  private request(req: Unsent<LoadRequest>): Promise<unknown> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  private end(err: Error): void {
    this.ended ??= err;
    for (const waiter of this.pending.values()) waiter.reject(this.ended);
    this.pending.clear();
  }
}
