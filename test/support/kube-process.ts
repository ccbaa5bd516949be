/**
 * One control-plane binary run by a test cluster: its last log lines kept for error messages,
 * stopped with SIGTERM, then SIGKILL when it does not exit in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const LOG_TAIL_CHARS = 6_000;
const STOP_GRACE_MS = 10_000;

export class KubeProcess {
  #log = '';

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {}

  static start(bin: string, args: readonly string[]): KubeProcess {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const p = new KubeProcess(bin.slice(bin.lastIndexOf('/') + 1), child);
    child.stderr?.on('data', (c: Buffer) => (p.#log = (p.#log + c.toString()).slice(-LOG_TAIL_CHARS)));
    // A binary that cannot be started emits 'error': kept for whileRunning's message, not thrown unhandled.
    child.once('error', (err) => (p.#log += `\n${err.message}`));
    return p;
  }

  /** `work`, cut short with the log's tail if the process exits first: nothing is worth waiting for then. */
  async whileRunning<T>(work: Promise<T>): Promise<T> {
    const child = this.child;
    let onExit = (): void => {};
    const exited = new Promise<never>((_, reject) => {
      onExit = () => reject(new Error(`${this.name} exited (${child.exitCode ?? child.signalCode}): ${this.logTail()}`));
      if (child.exitCode !== null || child.signalCode !== null) onExit();
      child.once('exit', onExit).once('error', onExit);
    });
    try {
      return await Promise.race([work, exited]);
    } finally {
      child.off('exit', onExit).off('error', onExit);
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
