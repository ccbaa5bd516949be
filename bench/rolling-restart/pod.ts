/**
 * One replica's "pod" in each of the four setups, and what the kubelet does to it: start it,
 * probe its readiness, and terminate it (preStop hook if any, SIGTERM to the entrypoint, SIGKILL
 * of everything left when the grace period ends).
 *
 *   sigterm                Envoy is the entrypoint; SIGTERM reaches it directly.
 *   prestop                Envoy is the entrypoint, with the preStop hook Envoy Gateway and Istio
 *                          use: POST /drain_listeners?graceful, a fixed sleep, then SIGTERM.
 *                          Envoy runs with Istio's drain flags (--drain-time-s 45, immediate).
 *   prestop-covering       the same, with the sleep an operator sets to cover the slowest app.
 *   drainplane             `drainplane run` is the entrypoint, on a new state folder per start
 *                          (a new pod); SIGTERM reaches drainplane.
 *   drainplane-kept-state  the same, restarted on the state folder its previous run used.
 */
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchProcess, forgetSidePid, registerSidePid } from './processes.js';

export type ArmKind = 'sigterm' | 'prestop' | 'prestop-covering' | 'drainplane' | 'drainplane-kept-state';

/** The arms whose pod runs Envoy as its entrypoint, drained (or not) by Envoy's own means. */
export function plainEnvoy(kind: ArmKind): boolean {
  return kind === 'sigterm' || kind === 'prestop' || kind === 'prestop-covering';
}

export function hasPrestop(kind: ArmKind): boolean {
  return kind === 'prestop' || kind === 'prestop-covering';
}

const DRAINPLANE = fileURLToPath(new URL('../../../bin/drainplane.js', import.meta.url));
const PROBE_TIMEOUT_MS = 1_000;
/** How long drainplane gets to reap a killed Envoy (it then exits with Envoy's code). */
const ENVOY_REAP_MS = 2_000;

export interface PodPorts {
  readonly ingress: number;
  readonly egress: number;
  readonly admin: number;
  /** drainplane run's own ports (unused by the plain-Envoy setups). */
  readonly xds: number;
  readonly api: number;
  readonly probe: number;
}

export interface PodOptions {
  readonly kind: ArmKind;
  readonly name: string;
  readonly envoyBin: string;
  readonly bootstrapFile: string;
  /** drainplane run's fleet config (this replica's group only). */
  readonly configFile: string;
  readonly ports: PodPorts;
  readonly dir: string;
  readonly graceSeconds: number;
  readonly prestopSleepSeconds: number;
}

export interface Termination {
  /** From the start of termination (preStop, else SIGTERM) to the exit of the entrypoint. */
  readonly exitSeconds: number;
  readonly exitCode: number | null;
  /** The grace period ran out and everything left was SIGKILLed. */
  readonly killedAtGrace: boolean;
  /** drainplane's shutdown phases (event shutdown_phase), with seconds since SIGTERM. */
  readonly phases: readonly { readonly phase: string; readonly elapsed: number }[];
}

export class Pod {
  #process: BenchProcess | undefined;
  #stateDir: string | undefined;
  #envoyPid: number | undefined;
  #phases: { phase: string; elapsed: number }[] = [];
  #starts = 0;

  constructor(readonly options: PodOptions) {}

  get starts(): number {
    return this.#starts;
  }

  get stateDir(): string | undefined {
    return this.#stateDir;
  }

  /** Fresh processes, as a new pod (or, for drainplane-kept-state, a restarted container). */
  async start(): Promise<void> {
    const o = this.options;
    this.#starts++;
    this.#phases = [];
    this.#envoyPid = undefined;
    const envoyArgs = ['-c', o.bootstrapFile, '--concurrency', '1', '--disable-hot-restart', '--log-level', 'warning'];
    if (plainEnvoy(o.kind)) {
      const drainFlags = hasPrestop(o.kind) ? ['--drain-time-s', '45', '--drain-strategy', 'immediate'] : [];
      this.#process = BenchProcess.start({ name: `envoy ${o.name}`, command: o.envoyBin, args: [...envoyArgs, ...drainFlags] });
      return;
    }
    if (o.kind === 'drainplane' || this.#stateDir === undefined) {
      this.#stateDir = await mkdtemp(path.join(o.dir, `state-${o.name}-`));
    }
    const p = o.ports;
    this.#process = BenchProcess.start({
      name: `drainplane run ${o.name}`,
      command: process.execPath,
      args: [
        DRAINPLANE,
        'run',
        '--config',
        o.configFile,
        '--state-dir',
        this.#stateDir,
        '--grace-period',
        String(o.graceSeconds),
        '--xds-port',
        String(p.xds),
        '--api-port',
        String(p.api),
        '--probe-port',
        String(p.probe),
        '--envoy-admin',
        `127.0.0.1:${p.admin}`,
        '--',
        o.envoyBin,
        ...envoyArgs,
      ],
      onLine: (line) => this.#logLine(line),
    });
  }

  /** What the kubelet's readiness probe sees. */
  async ready(): Promise<boolean> {
    const p = this.options.ports;
    const url = plainEnvoy(this.options.kind) ? `http://127.0.0.1:${p.admin}/ready` : `http://127.0.0.1:${p.probe}/readyz`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  get exited(): boolean {
    return this.#process?.exit !== undefined;
  }

  /** The kubelet's termination; resolves when the entrypoint has exited. */
  async terminate(): Promise<Termination> {
    const o = this.options;
    const proc = this.#process!;
    const started = performance.now();
    let killedAtGrace = false;
    const graceTimer = setTimeout(() => {
      killedAtGrace = true;
      void this.#killAll();
    }, o.graceSeconds * 1000);
    try {
      if (hasPrestop(o.kind)) await this.#prestop();
      proc.signal('SIGTERM');
      const exit = await proc.exited;
      // The container is gone with its entrypoint: nothing of it may outlive it.
      await this.#killAll();
      return {
        exitSeconds: Math.round((exit.at - started) / 10) / 100,
        exitCode: exit.code,
        killedAtGrace,
        phases: this.#phases,
      };
    } finally {
      clearTimeout(graceTimer);
    }
  }

  /** Teardown at the end of an arm. */
  async kill(): Promise<void> {
    await this.#killAll();
  }

  outputTail(chars = 3_000): string {
    return this.#process?.outputTail(chars) ?? '';
  }

  /** Envoy Gateway's and Istio's preStop: start a graceful drain of every listener, then wait. */
  async #prestop(): Promise<void> {
    await fetch(`http://127.0.0.1:${this.options.ports.admin}/drain_listeners?graceful`, {
      method: 'POST',
      signal: AbortSignal.timeout(2_000),
    }).then(
      (res) => res.arrayBuffer(),
      () => undefined, // an unreachable admin API does not hold the hook
    );
    await new Promise((r) => setTimeout(r, this.options.prestopSleepSeconds * 1000));
  }

  /**
   * Everything of the pod, Envoy first: under drainplane run it is a grandchild in a group of its
   * own, and only a living drainplane reaps it (killed after its parent, it would stay a zombie
   * where init does not reap).
   */
  async #killAll(): Promise<void> {
    const envoy = this.#envoyPid;
    if (envoy !== undefined && alive(envoy)) {
      process.kill(envoy, 'SIGKILL');
      if (this.#process) await Promise.race([this.#process.exited, sleep(ENVOY_REAP_MS)]);
    }
    if (envoy !== undefined) forgetSidePid(envoy);
    this.#process?.kill('SIGKILL');
    await this.#process?.exited;
  }

  #logLine(line: string): void {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (entry['event'] === 'envoy_started' && typeof entry['pid'] === 'number') {
      this.#envoyPid = entry['pid'];
      registerSidePid(entry['pid']);
    }
    if (entry['event'] === 'shutdown_phase') {
      this.#phases.push({ phase: String(entry['phase']), elapsed: Number(entry['elapsed']) });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
