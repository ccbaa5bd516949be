/**
 * The end-to-end fleet: drainplane in-process (test/support/daemon.ts), two real Envoys it
 * configures over ADS (each its own node and group), and the upstreams behind them. Start-up
 * waits until drainplane has seen every Envoy ACK its clusters and listeners, its admin /ready
 * says LIVE, every listener answers, and its metrics_service stream has connected.
 *
 * Everything started is stopped by close(), also when start-up fails half-way.
 */
import http2 from 'node:http2';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { apiRequest } from '../support/api-request.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { bootstrapConfig, fleetConfig, freeLoopbackPorts, H2_PREFIX, readDemoFile, type AdsApi, type NodePorts } from './configs.js';
import { EnvoyProcess } from './envoy-process.js';
import { getOnce } from './http-get.js';
import { H2Upstream, Http1Upstream } from './upstreams.js';

export interface FleetOptions {
  readonly envoyBin: string;
  readonly cluster: string;
  readonly nodeIds: readonly string[];
  readonly drainTimeSeconds: number;
  readonly readyTimeoutMs: number;
  readonly adsApi: AdsApi;
  /** The endpoints of the app's EDS cluster, when not the fleet's HTTP/1.1 upstream alone. */
  readonly edsPorts?: readonly number[];
  /** Envoy's preconnect ratio for that cluster (connections opened ahead of requests). */
  readonly edsPreconnectRatio?: number;
  /** Envoy's idle timeout for that cluster's connections; 4 s by default. */
  readonly edsIdleTimeoutSeconds?: number;
  /**
   * `load-reports`: Envoy sends drainplane load reports (LRS) and does not name its admin address
   * in its metadata, so host counts can come from load reports only.
   */
  readonly hostCounts?: 'admin' | 'load-reports';
}

export interface FleetNode extends NodePorts {
  readonly envoy: EnvoyProcess;
}

/**
 * drainplane reads a draining node's admin /stats about every second when the node names its
 * admin address. The suite pushes that poll beyond its own run time, so every connection count
 * a drain acts on comes from Envoy's metrics_service stream.
 */
const ADMIN_POLL_OFF_MS = 3_600_000;
const PROBE_TIMEOUT_MS = 2_000;
/** Envoy's --base-id (hot-restart shared memory) differs for every Envoy this process starts. */
let nextBaseId = 1;

/** drainplane's log lines (JSON), the last ones kept, for waiting on events and for reports. */
export class LogTail {
  readonly #lines: string[] = [];

  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line) this.#lines.push(line);
    if (this.#lines.length > 5_000) this.#lines.splice(0, this.#lines.length - 5_000);
  }

  /** True once a line with this `event` (and these fields) was logged. */
  has(event: string, fields: Record<string, unknown> = {}): boolean {
    return this.entries(event, fields).length > 0;
  }

  /** The lines with this `event` (and these fields), in the order logged. */
  entries(event: string, fields: Record<string, unknown> = {}): Record<string, unknown>[] {
    return this.#lines
      .map(parse)
      .filter((entry): entry is Record<string, unknown> => entry?.['event'] === event && Object.entries(fields).every(([k, v]) => entry[k] === v));
  }

  tail(count: number): string {
    return this.#lines.slice(-count).join('\n');
  }
}

export class Fleet {
  readonly logs = new LogTail();
  readonly nodes: FleetNode[] = [];
  daemon: TestDaemon | undefined;
  http1: Http1Upstream | undefined;
  h2: H2Upstream | undefined;
  #dir: string | undefined;

  private constructor(readonly options: FleetOptions) {}

  static async start(options: FleetOptions): Promise<Fleet> {
    const fleet = new Fleet(options);
    try {
      await fleet.#start();
      return fleet;
    } catch (err) {
      const report = fleet.diagnostics();
      await fleet.close();
      throw new Error(`${(err as Error).message}\n${report}`, { cause: err });
    }
  }

  node(id: string): FleetNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node ${id} in the fleet`);
    return node;
  }

  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    return daemonApi(this.daemon!, method, path, body);
  }

  /** The fleet config drainplane runs now (its file). */
  configYaml(): Promise<string> {
    return readFile(this.daemon!.configFile, 'utf8');
  }

  /** Envoy output and drainplane logs, for a failure report. */
  diagnostics(): string {
    const parts = this.nodes.map((n) => {
      const exit = n.envoy.exit ? ` (exited: code ${n.envoy.exit.code}, signal ${n.envoy.exit.signal})` : '';
      return `--- envoy ${n.id}${exit}, last output:\n${n.envoy.outputTail(4_000) || '(none)'}`;
    });
    parts.push(`--- drainplane, last log lines:\n${this.logs.tail(60) || '(none)'}`);
    return parts.join('\n');
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.envoy.stop()));
    await this.daemon?.close().catch(() => {});
    await Promise.allSettled([this.http1?.close(), this.h2?.close()]);
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }

  async #start(): Promise<void> {
    const o = this.options;
    this.#dir = await mkdtemp(path.join(tmpdir(), 'drainplane-e2e-envoy-'));
    this.http1 = await Http1Upstream.start();
    this.h2 = await H2Upstream.start();

    // drainplane's own ports come from the same set: one it picked itself could be an Envoy's.
    const [xdsPort, apiPort, ...ports] = await freeLoopbackPorts(2 + 3 * o.nodeIds.length);
    const nodePorts: NodePorts[] = o.nodeIds.map((id, i) => ({
      id,
      ingressPort: ports[3 * i]!,
      egressPort: ports[3 * i + 1]!,
      adminPort: ports[3 * i + 2]!,
    }));
    const config = fleetConfig(await readDemoFile('drainplane.yaml'), {
      cluster: o.cluster,
      nodes: nodePorts,
      http1Port: this.http1.port,
      h2Port: this.h2.port,
      ...(o.edsPorts && { edsPorts: o.edsPorts }),
      ...(o.edsPreconnectRatio !== undefined && { edsPreconnectRatio: o.edsPreconnectRatio }),
      ...(o.edsIdleTimeoutSeconds !== undefined && { edsIdleTimeoutSeconds: o.edsIdleTimeoutSeconds }),
    });
    this.daemon = await startTestDaemon(config, {
      xdsPort: xdsPort!,
      apiPort: apiPort!,
      // At least info: start-up waits for the metrics_connected event.
      logger: pino({ level: ['debug', 'trace'].includes(process.env['TEST_LOG_LEVEL'] ?? '') ? process.env['TEST_LOG_LEVEL']! : 'info' }, this.logs),
      gaugePollMs: ADMIN_POLL_OFF_MS,
    });

    const bootstrapTemplate = await readDemoFile('bootstrap.yaml');
    for (const ports of nodePorts) {
      const bootstrapFile = path.join(this.#dir, `${ports.id}.yaml`);
      await writeFile(
        bootstrapFile,
        bootstrapConfig(bootstrapTemplate, {
          nodeId: ports.id,
          cluster: o.cluster,
          xdsPort: this.daemon.daemon.xdsPort,
          adminPort: ports.adminPort,
          adsApi: o.adsApi,
          ...(o.hostCounts === 'load-reports' && { loadReports: true }),
        }),
      );
      this.nodes.push({ ...ports, envoy: this.#spawnEnvoy(ports.id, ports.adminPort) });
    }
    const deadline = Date.now() + o.readyTimeoutMs;
    await Promise.all(this.nodes.map((n) => this.#waitUntilServing(n, deadline)));
  }

  /**
   * A new Envoy process for the node, on the same bootstrap (node id, ports): what a container
   * restart does. The old one is stopped first; the new one is not waited for.
   */
  async restartEnvoy(id: string): Promise<FleetNode> {
    const index = this.nodes.findIndex((n) => n.id === id);
    const old = this.nodes[index];
    if (!old) throw new Error(`no node ${id} in the fleet`);
    await old.envoy.stop();
    const restarted = { ...old, envoy: this.#spawnEnvoy(id, old.adminPort) };
    this.nodes[index] = restarted;
    return restarted;
  }

  #spawnEnvoy(id: string, adminPort: number): EnvoyProcess {
    return EnvoyProcess.start({
      name: id,
      bin: this.options.envoyBin,
      bootstrapFile: path.join(this.#dir!, `${id}.yaml`),
      adminPort,
      // Unique among the Envoys of this run and of concurrent runs (distinct pids).
      baseId: (process.pid % 100_000) * 100 + nextBaseId++,
      drainTimeSeconds: this.options.drainTimeSeconds,
    });
  }

  async #waitUntilServing(node: FleetNode, deadline: number): Promise<void> {
    let waitingFor = 'drainplane to see the node connect';
    const step = async (what: string, check: () => Promise<boolean> | boolean) => {
      waitingFor = what;
      while (!(await check())) {
        if (node.envoy.exit) throw new Error(`envoy ${node.id} exited while waiting for ${waitingFor}`);
        if (Date.now() > deadline) throw new Error(`envoy ${node.id}: timed out waiting for ${waitingFor}`);
        await sleep(100);
      }
    };
    const d = this.daemon!.daemon;
    await step(`drainplane to see ${node.id} ACK its clusters and listeners`, () => {
      const status = d.nodes.get(node.id);
      const wanted = d.cache.snapshot(node.id);
      for (const type of ['lds', 'cds'] as const) {
        const nack = status?.types[type]?.lastNack;
        if (nack) throw new Error(`envoy ${node.id} NACKed ${type} version ${nack.version}: ${nack.message}`);
      }
      return (
        status?.connected === true &&
        wanted !== undefined &&
        status.types.lds?.acked?.version === wanted.get(TypeUrl.Listener).version &&
        status.types.cds?.acked?.version === wanted.get(TypeUrl.Cluster).version
      );
    });
    await step(`envoy ${node.id} admin /ready to say LIVE`, async () => {
      const ready = await node.envoy.ready().catch(() => undefined);
      return ready?.status === 200 && ready.state === 'LIVE';
    });
    await step(`the ingress listener of ${node.id} to answer HTTP/1.1`, () => probeHttp1(node.ingressPort, '/app/probe'));
    await step(`the ingress listener of ${node.id} to answer HTTP/2`, () => probeH2(node.ingressPort, `${H2_PREFIX}/probe`));
    await step(`the egress listener of ${node.id} to answer`, () => probeHttp1(node.egressPort, '/egress/probe'));
    await step(`the metrics_service stream of ${node.id} to connect`, () => this.logs.has('metrics_connected', { node: node.id }));
  }
}

/** One call to drainplane's HTTP API: its status and JSON body. */
export async function daemonApi(daemon: TestDaemon, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${daemon.apiUrl}${path}`, { ...apiRequest(method, body), signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.json() };
}

/** One request on a new connection; true on 2xx. */
export function probeHttp1(port: number, path: string): Promise<boolean> {
  return getOnce(port, path).then(
    (a) => a.status >= 200 && a.status < 300,
    () => false,
  );
}

/** One stream on a new HTTP/2 session; true on 2xx. */
function probeH2(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      session.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    session.on('error', () => done(false));
    const stream = session.request({ ':method': 'GET', ':path': path }, { endStream: true });
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', () => {});
    stream.on('error', () => done(false));
    stream.on('end', () => done(status >= 200 && status < 300));
  });
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
