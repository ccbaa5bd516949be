/**
 * Every process the benchmark starts, each in a process group of its own, with the tail of its
 * output kept for failure reports. Whatever is still running when the benchmark exits, fails or
 * is interrupted is killed with its group, plus any pid registered on the side (the Envoy that
 * `drainplane run` starts lives in a group of its own, out of reach of its parent's group).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** performance.now() when it exited. */
  readonly at: number;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Called with every complete line of stdout. */
  readonly onLine?: (line: string) => void;
}

const TAIL_CHARS = 16 * 1024;

const live = new Set<BenchProcess>();
const sidePids = new Set<number>();

/** Kills every group still running and every registered side pid; safe to call again. */
export function killEverything(): void {
  // Side pids first: their parents, still alive for a moment, may reap them.
  for (const pid of sidePids) killPid(pid, 'SIGKILL');
  sidePids.clear();
  for (const p of live) p.kill('SIGKILL');
}

/** A pid to kill on exit that is not one of ours (a grandchild in another group). */
export function registerSidePid(pid: number): void {
  sidePids.add(pid);
}

export function forgetSidePid(pid: number): void {
  sidePids.delete(pid);
}

let hooked = false;
/** Once per run: no exit path (normal, error, Ctrl-C, SIGTERM) leaves a process behind. */
export function killEverythingOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`rolling-restart: ${signal}, stopping everything\n`);
      killEverything();
      process.exit(130);
    });
  }
}

export class BenchProcess {
  readonly exited: Promise<ProcessExit>;
  readonly #child: ChildProcess;
  #exit: ProcessExit | undefined;
  #output = '';
  #partial = '';

  private constructor(readonly options: StartOptions) {
    this.#child = spawn(options.command, [...options.args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    live.add(this);
    this.#child.stdout!.on('data', (chunk: Buffer) => this.#stdout(chunk.toString('utf8')));
    this.#child.stderr!.on('data', (chunk: Buffer) => this.#keep(chunk.toString('utf8')));
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        live.delete(this);
        this.#exit ??= { code, signal, at: performance.now() };
        resolve(this.#exit);
      };
      this.#child.once('exit', done);
      this.#child.once('error', (err) => {
        this.#keep(`\n[cannot start ${options.command}: ${err.message}]\n`);
        done(127, null);
      });
    });
  }

  static start(options: StartOptions): BenchProcess {
    return new BenchProcess(options);
  }

  get name(): string {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  /** The process itself (not its group): what the kubelet or a shell would signal. */
  signal(signal: NodeJS.Signals): void {
    if (!this.#exit && this.#child.pid !== undefined) killPid(this.#child.pid, signal);
  }

  /** The whole group. */
  kill(signal: NodeJS.Signals): void {
    if (!this.#exit && this.#child.pid !== undefined) killPid(-this.#child.pid, signal);
  }

  /** SIGTERM to the group, SIGKILL after `boundMs`. */
  async stop(boundMs = 3_000): Promise<ProcessExit> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), boundMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  outputTail(chars = 4_000): string {
    return this.#output.slice(-chars);
  }

  #stdout(text: string): void {
    this.#keep(text);
    if (!this.options.onLine) return;
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.options.onLine(line);
  }

  #keep(text: string): void {
    this.#output = (this.#output + text).slice(-TAIL_CHARS);
  }
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
