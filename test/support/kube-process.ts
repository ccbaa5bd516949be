/**
 * One control-plane binary run by a test cluster: its last log lines kept for error messages,
 * stopped with SIGTERM, then SIGKILL when it does not exit in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { waitUntil } from './wait.js';

const LOG_TAIL_CHARS = 6_000;
const STOP_GRACE_MS = 10_000;

export class KubeProcess {
  #log = '';
  /** Exited (its log read to the end) or never started. */
  #ended = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {}

  static start(bin: string, args: readonly string[]): KubeProcess {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const p = new KubeProcess(bin.slice(bin.lastIndexOf('/') + 1), child);
    child.stderr?.on('data', (c: Buffer) => (p.#log = (p.#log + c.toString()).slice(-LOG_TAIL_CHARS)));
    // A binary that cannot be started emits 'error', not 'exit': noted here, not thrown unhandled.
    child.once('error', (err) => {
      p.#ended = true;
      p.#log += `\n${err.message}`;
    });
    child.once('close', () => (p.#ended = true));
    return p;
  }

  /** Polls `check` until it holds; gives up at once, with the log's tail, if the process exits. */
  async waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    await waitUntil(what, async () => this.#ended || (await check()), timeoutMs, { intervalMs: 250, explain: () => this.logTail() });
    if (this.#ended) {
      throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode ?? 'not started'}) before ${what}: ${this.logTail()}`);
    }
  }

  logTail(): string {
    return `${this.name} log: ${this.#log.slice(-2_000)}`;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}
