/**
 * A pod for `drainplane run` with a real Envoy: the `drainplane` executable started as users
 * start it (`drainplane run ... -- envoy -c bootstrap.yaml`), two dependents that record when
 * they are stopped, and the upstreams behind Envoy, all on loopback.
 *
 * A `PodSite` is what outlives one `drainplane run` process: the state folder, the config and
 * bootstrap files, the ports and the upstreams. Starting it again on the same site is a
 * container restart: same --state-dir, same ports, a new Envoy process.
 *
 * The config is the demo group of envoy/drainplane.yaml (configs.ts); `ingressOnly` drops its
 * egress listener, as the shipped Kubernetes deployment has none (deploy/kubernetes).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { startCli, type CliProcess } from '../support/cli.js';
import { bootstrapConfig, fleetConfig, freeLoopbackPorts, readDemoFile, type AdsApi, type NodePorts } from './configs.js';
import { sleep } from './fleet.js';
import { getOnce, type Answer } from './http-get.js';
import { H2Upstream, Http1Upstream } from './upstreams.js';

export const NODE_ID = 'pod-envoy';
const CLUSTER = 'drainplane-run-e2e';
const REQUEST_TIMEOUT_MS = 3_000;
/** Start-up of drainplane and Envoy is not what is tested; a busy machine may take this long. */
export const START_TIMEOUT_MS = 30_000;

export interface SiteOptions {
  readonly envoyBin: string;
  readonly adsApi: AdsApi;
  /** Leave out the egress listener (the Kubernetes deployment's shape). */
  readonly ingressOnly?: boolean;
  /** The config's `kubernetes.kubeconfig` (a pod that watches its own deletion). */
  readonly kubeconfig?: string;
}

export interface StopRecord {
  readonly name: string;
  readonly at: number;
}

/** What stays across restarts of `drainplane run`: files, ports and upstreams. */
export class PodSite {
  readonly pods: RunPod[] = [];

  private constructor(
    readonly options: SiteOptions,
    readonly dir: string,
    readonly ports: NodePorts & { readonly xdsPort: number; readonly apiPort: number; readonly probePort: number },
    readonly http1: Http1Upstream,
    readonly h2: H2Upstream,
  ) {}

  static async create(options: SiteOptions): Promise<PodSite> {
    const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-run-e2e-'));
    const [http1, h2] = await Promise.all([Http1Upstream.start(), H2Upstream.start()]);
    const [ingressPort, egressPort, adminPort, xdsPort, apiPort, probePort] = await freeLoopbackPorts(6);
    const ports = {
      id: NODE_ID,
      ingressPort: ingressPort!,
      egressPort: egressPort!,
      adminPort: adminPort!,
      xdsPort: xdsPort!,
      apiPort: apiPort!,
      probePort: probePort!,
    };
    const site = new PodSite(options, dir, ports, http1, h2);
    await site.#writeFiles();
    return site;
  }

  get stopsFile(): string {
    return path.join(this.dir, 'stops.jsonl');
  }

  /** The dependents' SIGTERMs, in the order they came. */
  async stops(): Promise<StopRecord[]> {
    const text = await readFile(this.stopsFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as StopRecord);
  }

  /** Starts `drainplane run` on this site, with these flags before `--`. */
  start(flags: readonly string[], o: { adminAddress?: string } = {}): RunPod {
    const p = this.ports;
    const proc = startCli([
      'run',
      '--config',
      path.join(this.dir, 'drainplane.yaml'),
      '--xds-port',
      String(p.xdsPort),
      '--api-port',
      String(p.apiPort),
      '--probe-port',
      String(p.probePort),
      '--probe-host',
      '127.0.0.1',
      '--state-dir',
      path.join(this.dir, 'state'),
      '--envoy-admin',
      o.adminAddress ?? `127.0.0.1:${p.adminPort}`,
      ...flags,
      '--',
      this.options.envoyBin,
      '-c',
      path.join(this.dir, 'bootstrap.yaml'),
      // No hot restart: nothing to share with other Envoys on the machine (no --base-id to pick).
      '--disable-hot-restart',
      '--concurrency',
      '1',
      '--log-level',
      process.env['ENVOY_LOG_LEVEL'] ?? 'warning',
    ]);
    const pod = new RunPod(this, proc);
    this.pods.push(pod);
    return pod;
  }

  async close(): Promise<void> {
    // Only pods still running: a pod that exited stopped its children, and their pids may be reused.
    await Promise.allSettled(this.pods.filter((pod) => pod.running).map((pod) => pod.kill()));
    await Promise.allSettled([this.http1.close(), this.h2.close()]);
    await rm(this.dir, { recursive: true, force: true });
  }

  async #writeFiles(): Promise<void> {
    const p = this.ports;
    const fleet = YAML.parse(
      fleetConfig(await readDemoFile('drainplane.yaml'), { cluster: CLUSTER, nodes: [p], http1Port: this.http1.port, h2Port: this.h2.port }),
    );
    const group = fleet.groups[0];
    if (this.options.ingressOnly) group.listeners = group.listeners.filter((l: { traffic_direction?: string }) => l.traffic_direction !== 'OUTBOUND');
    const script = path.join(this.dir, 'dependent.sh');
    await writeFile(script, DEPENDENT_SCRIPT);
    fleet.dependents = ['router', 'policy-engine'].map((name) => dependent(script, name, this.stopsFile));
    if (this.options.kubeconfig) fleet.kubernetes = { kubeconfig: this.options.kubeconfig };
    await writeFile(path.join(this.dir, 'drainplane.yaml'), YAML.stringify(fleet));
    const bootstrap = bootstrapConfig(await readDemoFile('bootstrap.yaml'), {
      nodeId: NODE_ID,
      cluster: CLUSTER,
      xdsPort: p.xdsPort,
      adminPort: p.adminPort,
      adsApi: this.options.adsApi,
    });
    await writeFile(path.join(this.dir, 'bootstrap.yaml'), bootstrap);
  }
}

/**
 * A dependent process: on SIGTERM it records its name and the time (epoch ms) in the stops
 * file, and exits. A shell, not node: a few of them start per scenario on a busy machine.
 * `wait` returns at the signal (a foreground sleep would hold the trap until it ended), and the
 * trap ends the sleep, so nothing is left behind.
 */
const DEPENDENT_SCRIPT = `#!/bin/sh
# usage: dependent.sh NAME STOPS_FILE
trap 'printf "{\\"name\\":\\"%s\\",\\"at\\":%s}\\n" "$1" "$(date +%s%3N)" >> "$2"; kill $! 2>/dev/null; exit 0' TERM
sleep 600 &
wait
`;

function dependent(script: string, name: string, file: string): { name: string; command: string[]; stopTimeoutSeconds: number } {
  return { name, command: ['/bin/sh', script, name, file], stopTimeoutSeconds: 1 };
}

/** One `drainplane run` process and the Envoy it runs. */
export class RunPod {
  readonly exited: Promise<number | null>;
  #code: number | null | undefined;

  constructor(
    readonly site: PodSite,
    readonly proc: CliProcess,
  ) {
    this.exited = proc.exited.then((code) => (this.#code = code));
  }

  get running(): boolean {
    return this.#code === undefined;
  }

  get logs(): Record<string, unknown>[] {
    return this.proc.logs;
  }

  /** The log lines of the shutdown phases, by phase name, in order. */
  phases(): string[] {
    return this.logs.filter((l) => l['event'] === 'shutdown_phase').map((l) => String(l['phase']));
  }

  phaseMessage(phase: string): string | undefined {
    const line = this.logs.find((l) => l['event'] === 'shutdown_phase' && l['phase'] === phase);
    return line === undefined ? undefined : String(line['msg']);
  }

  async envoyPid(): Promise<number> {
    const line = await this.proc.waitForLog((l) => l['event'] === 'envoy_started', START_TIMEOUT_MS);
    return Number(line['pid']);
  }

  signal(signal: NodeJS.Signals): void {
    this.proc.child.kill(signal);
  }

  /**
   * The container dies: drainplane, Envoy and the dependents are killed at once (SIGKILL). The
   * children run in their own process groups, so each group is killed, as a container's end would.
   */
  async kill(): Promise<void> {
    const children = this.logs
      .filter((l) => l['event'] === 'envoy_started' || l['event'] === 'dependent_started')
      .map((l) => l['pid'])
      .filter((pid): pid is number => typeof pid === 'number');
    this.proc.child.kill('SIGKILL');
    for (const pid of children) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.all(children.map(waitForExit));
    await this.exited;
  }

  /** GET /readyz on the API port or the probe port: its status, 0 when nothing answers. */
  async readyz(on: 'api' | 'probe' = 'api'): Promise<number> {
    const port = on === 'api' ? this.site.ports.apiPort : this.site.ports.probePort;
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch(() => undefined);
    return res?.status ?? 0;
  }

  async api(method: string, urlPath: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`http://127.0.0.1:${this.site.ports.apiPort}${urlPath}`, { method, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return { status: res.status, body: await res.json() };
  }

  /** Envoy's admin API (the real port, whatever drainplane was told). */
  async admin(urlPath: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.site.ports.adminPort}${urlPath}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  }

  /** Names of Envoy's active listeners (admin /listeners). */
  async listeners(): Promise<string[]> {
    const body = (await (await this.admin('/listeners?format=json')).json()) as { listener_statuses?: { name: string }[] };
    return (body.listener_statuses ?? []).map((s) => s.name).sort();
  }

  /** Dynamic listeners that have a version draining (admin /config_dump). */
  async drainingListeners(): Promise<string[]> {
    const body = (await (await this.admin('/config_dump?resource=dynamic_listeners')).json()) as {
      configs?: { name: string; draining_state?: unknown }[];
    };
    return (body.configs ?? [])
      .filter((c) => c.draining_state !== undefined)
      .map((c) => c.name)
      .sort();
  }

  /** One HTTP/1.1 request on a new connection through a listener of Envoy; status 0 when refused. */
  async get(listener: 'ingress' | 'egress', urlPath = '/probe'): Promise<Answer> {
    const port = listener === 'ingress' ? this.site.ports.ingressPort : this.site.ports.egressPort;
    const prefix = listener === 'ingress' ? '/app' : '/egress';
    return getOnce(port, `${prefix}${urlPath}`).catch(() => ({ status: 0, connection: '' }));
  }

  /** The tail of drainplane's log (Envoy's output among it), for a failure report. */
  diagnostics(): string {
    return this.logs
      .slice(-40)
      .map((l) => (l['unparsed'] ? String(l['msg']) : JSON.stringify(l)))
      .join('\n');
  }
}

/** Runs one step of a scenario on a pod; if it fails, the pod's log tail goes to stderr first. */
export async function step<T>(label: string, pod: RunPod, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    console.error(`--- ${label}, last log lines:\n${pod.diagnostics()}`);
    throw err;
  }
}

async function waitForExit(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
}

/** A drain of run's shutdown as GET /v1/drains lists it (the fields these tests read). */
export interface ShutdownDrain {
  readonly createdAt: string;
  readonly state: string;
  readonly origin?: string;
  readonly retired?: { readonly reason: string };
  readonly spec: { readonly scope: string; readonly method: string };
  readonly phases: {
    readonly name: string;
    readonly state: string;
    readonly nodes: { readonly state: string; readonly listeners: unknown[]; readonly note?: string; readonly error: string | null }[];
  }[];
}

/**
 * The propagation delay's modify drain ended at its deadline, its node timed out because Envoy
 * still drained the old ingress version: the plan gives Envoy a longer drain time than the delay.
 */
export function assertEnvoyStillDrained(d: ShutdownDrain): void {
  assert.equal(d.state, 'timed_out', `the modify drain of the propagation delay: ${JSON.stringify(d.phases)}`);
  for (const n of d.phases.flatMap((p) => p.nodes)) {
    assert.equal(n.state, 'timed_out');
    assert.match(n.error ?? '', /^Envoy's listener drain did not end within /);
  }
}
