/**
 * A backend process behind Envoy that can be stopped and started again on the same address, as
 * a restarted pod keeps its Service's endpoint here (backend-main.ts: exits at once on SIGTERM).
 * Each process is killed when the test process exits, however it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./backend-main.js', import.meta.url));
const START_BOUND_MS = 10_000;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class RestartableBackend {
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** Starts the backend on `port` and resolves once it listens there. */
  static async start(port: number): Promise<RestartableBackend> {
    const backend = new RestartableBackend(port);
    await backend.#spawn();
    return backend;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The process's pid while it runs (for a caller that kills what is left on its own exit paths). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** SIGTERM, and resolves once the process is gone. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }

  /** A new process on the same address. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  #spawn(): Promise<void> {
    const child = spawn(process.execPath, [MAIN, String(this.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    let output = '';
    return new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null): void => fail(`exited (${code})`);
      const timer = setTimeout(() => fail(`did not listen within ${START_BOUND_MS / 1000} s`), START_BOUND_MS);
      const settle = (): void => {
        clearTimeout(timer);
        child.off('exit', onExit);
      };
      const fail = (why: string): void => {
        settle();
        child.kill('SIGKILL');
        reject(new Error(`backend on ${this.port} ${why}:\n${output}`));
      };
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(JSON.stringify({ port: this.port }))) {
          settle();
          resolve();
        }
      });
      child.once('exit', onExit);
    });
  }
}
