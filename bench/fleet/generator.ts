/**
 * The load generator as the main process sees it: worker processes (sim-worker.ts), each
 * simulating its share of the fleet, driven over IPC. Timestamps are taken in the workers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GroupPlan } from './fleet-config.js';
import type { Convergence, FromWorker, NodeLds, SyncReport, ToWorker } from './protocol.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./sim-worker.js', import.meta.url));

export interface GeneratorOptions {
  readonly workers: number;
  readonly host: string;
  readonly port: number;
  readonly nodes: number;
  readonly deltaPercent: number;
  readonly groups: readonly GroupPlan[];
  readonly streamsPerConnection: number;
  readonly connectWindow: number;
}

interface Waiter {
  readonly op: FromWorker['op'];
  readonly id?: string;
  readonly resolve: (message: FromWorker) => void;
}

class WorkerHandle {
  readonly #waiters: Waiter[] = [];
  readonly #queued: FromWorker[] = [];
  readonly exited: Promise<void>;

  constructor(
    readonly child: ChildProcess,
    private readonly onFailure: (message: string) => void,
  ) {
    child.on('message', (message: FromWorker) => {
      if (message.op === 'failure') return this.onFailure(message.message);
      const i = this.#waiters.findIndex((w) => w.op === message.op && (w.id === undefined || w.id === idOf(message)));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(message);
      else this.#queued.push(message);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal === null) this.onFailure(`generator worker ${child.pid} exited with code ${code}`);
    });
  }

  send(message: ToWorker): void {
    if (this.child.connected) this.child.send(message);
  }

  next<T extends FromWorker['op']>(op: T, id?: string): Promise<Extract<FromWorker, { op: T }>> {
    const i = this.#queued.findIndex((m) => m.op === op && (id === undefined || idOf(m) === id));
    if (i >= 0) return Promise.resolve(this.#queued.splice(i, 1)[0] as Extract<FromWorker, { op: T }>);
    return new Promise((resolve) => this.#waiters.push({ op, ...(id !== undefined && { id }), resolve: resolve as (m: FromWorker) => void }));
  }
}

function idOf(message: FromWorker): string | undefined {
  if (message.op === 'armed') return message.id;
  if (message.op === 'converged') return message.result.id;
  return undefined;
}

/** Rejects after `ms` with a message naming what was awaited; the timer never outlives the race. */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${(ms / 1000).toFixed(0)} s waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class LoadGenerator {
  readonly #workers: WorkerHandle[];
  readonly failures: string[] = [];
  #failed: ((err: Error) => void) | undefined;
  readonly #failure = new Promise<never>((_, reject) => {
    this.#failed = reject;
  });

  private constructor(private readonly options: GeneratorOptions) {
    this.#failure.catch(() => undefined);
    this.#workers = Array.from({ length: options.workers }, () => {
      const child = fork(WORKER_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      return new WorkerHandle(child, (message) => {
        this.failures.push(message);
        this.#failed?.(new Error(`load generator: ${message}`));
      });
    });
  }

  /** Forks the workers and connects every node; resolves when each has ACKed all four types. */
  static async connect(options: GeneratorOptions, timeoutMs: number): Promise<{ generator: LoadGenerator; reports: SyncReport[] }> {
    const generator = new LoadGenerator(options);
    try {
      const reports = await generator.#all(`${options.nodes} nodes to connect and sync`, timeoutMs, (w, i) => {
        w.send({
          op: 'connect',
          options: {
            host: options.host,
            port: options.port,
            groups: options.groups,
            nodes: { worker: i, workers: options.workers, total: options.nodes, deltaPercent: options.deltaPercent },
            streamsPerConnection: options.streamsPerConnection,
            connectWindow: options.connectWindow,
          },
        });
        return w.next('synced').then((m) => m.report);
      });
      return { generator, reports };
    } catch (err) {
      await generator.close();
      throw err;
    }
  }

  /**
   * Records every node's LDS version, runs `trigger`, and waits until every node has ACKed a
   * different one (or `timeoutMs`, after which the partial result is returned with `pending`).
   */
  async measureLdsPush(id: string, timeoutMs: number, trigger: () => Promise<void>): Promise<Convergence[]> {
    await this.#all(`workers to arm ${id}`, 10_000, (w) => {
      w.send({ op: 'arm', id });
      return w.next('armed', id);
    });
    const results = this.#workers.map((w) => w.next('converged', id).then((m) => m.result));
    await Promise.race([trigger(), this.#failure]);
    const all = Promise.all(results);
    try {
      return await withTimeout(`every node to ACK the new listeners (${id})`, timeoutMs, Promise.race([all, this.#failure]));
    } catch (err) {
      if (this.failures.length > 0) throw err;
      for (const w of this.#workers) w.send({ op: 'report', id });
      return withTimeout(`the partial result of ${id}`, 10_000, all);
    }
  }

  /** The control plane is about to be killed: the workers stop watching their streams. */
  async outage(): Promise<void> {
    await this.#all('workers to expect the outage', 10_000, (w) => {
      w.send({ op: 'outage' });
      return w.next('outage');
    });
  }

  /**
   * Every node reconnects to `port`, each after a delay drawn from 0 to `jitterMs`; resolves
   * when each has ACKed all four types again.
   */
  reconnect(port: number, timeoutMs: number, jitterMs = 0): Promise<SyncReport[]> {
    return this.#all(`${this.options.nodes} nodes to reconnect`, timeoutMs, (w) => {
      w.send({ op: 'reconnect', port, jitterMs });
      return w.next('synced').then((m) => m.report);
    });
  }

  /** Each node's latest LDS response. */
  async ldsState(): Promise<NodeLds[]> {
    const parts = await this.#all('workers to report LDS state', 30_000, (w) => {
      w.send({ op: 'lds-state' });
      return w.next('lds-state').then((m) => m.nodes);
    });
    return parts.flat().sort((a, b) => a.index - b.index);
  }

  async #all<T>(what: string, timeoutMs: number, each: (w: WorkerHandle, i: number) => Promise<T>): Promise<T[]> {
    return withTimeout(what, timeoutMs, Promise.race([Promise.all(this.#workers.map(each)), this.#failure]));
  }

  /** Closes every stream and stops the workers (killing any that do not exit in time). */
  async close(): Promise<void> {
    for (const w of this.#workers) w.send({ op: 'close' });
    const exited = Promise.all(this.#workers.map((w) => w.exited));
    try {
      await withTimeout('generator workers to exit', 10_000, exited);
    } catch {
      for (const w of this.#workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      await exited;
    }
  }

  get workerPids(): number[] {
    return this.#workers.flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]));
  }

  get nodes(): number {
    return this.options.nodes;
  }
}
