import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

/** How a child process ended, as a shell would report it: its code, or 128 + the signal. */
export interface ChildExit {
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildOptions {
  readonly name: string;
  readonly command: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A supervised child process in its own process group, so that a signal sent to drainplane's
 * group (docker stop, an init that signals the whole group, Ctrl-C in a terminal) does not
 * reach it before drainplane has drained it. Its output is relayed to ours.
 *
 * The group is the child's: signals go to the whole group, so a command that wraps Envoy in a
 * script that does not `exec` it still stops Envoy; and when the child exits, whatever is left
 * of its group is killed, so no orphan outlives it holding its output open (which would keep
 * drainplane from exiting).
 */
export class Child {
  readonly exited: Promise<ChildExit>;
  readonly #process: ChildProcess;
  #exit: ChildExit | undefined;

  constructor(readonly options: ChildOptions) {
    const [file, ...args] = options.command;
    if (!file) throw new Error(`${options.name}: empty command`);
    this.#process = spawn(file, args, {
      detached: true, // a new process group
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    this.#process.stdout!.pipe(process.stdout, { end: false });
    this.#process.stderr!.pipe(process.stderr, { end: false });
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.#exit === undefined) this.#signalGroup('SIGKILL');
        this.#exit ??= {
          code: code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1),
          signal,
        };
        resolve(this.#exit);
      };
      this.#process.once('exit', done);
      this.#process.once('error', (err) => {
        process.stderr.write(`drainplane: cannot start ${options.name} (${file}): ${err.message}\n`);
        done(127, null);
      });
    });
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#signalGroup(signal);
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#process.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone (every member exited): nothing left to signal.
    }
  }

  /** SIGTERM (or the given signal), then SIGKILL if it has not exited within `boundMs`. */
  async stop(boundMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<ChildExit> {
    if (!this.running) return this.exited;
    this.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.signal('SIGKILL');
        resolve();
      }, boundMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    return this.exited;
  }
}
