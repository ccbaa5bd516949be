/**
 * A reconnect storm: a large simulated fleet (the benchmark's raw HTTP/2 ADS nodes, bench/fleet,
 * many streams per connection, 20% Delta) connected to `drainplane serve` in a child process,
 * with a drain in effect on a third of it. drainplane is SIGKILLed and started again on the
 * same state folder, and every node reconnects at once. drainplane must stay up, send every
 * node its own listener set (drained nodes the drained one, the others the full one), and keep
 * its memory bounded.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DaemonProcess } from '../../bench/fleet/daemon-process.js';
import { fleetConfigYaml, groupPlans, nodeZone, type FleetShape } from '../../bench/fleet/fleet-config.js';
import { LoadGenerator } from '../../bench/fleet/generator.js';
import { waitUntil } from './wait.js';

export interface StormOptions {
  readonly nodes: number;
  /** Generator processes (default 1). */
  readonly workers?: number;
  /** Node streams per HTTP/2 connection (default 500). */
  readonly streamsPerConnection?: number;
  /** RSS allowed per node above the restarted daemon's own, in KiB (default 50). */
  readonly rssPerNodeKiB?: number;
  readonly log?: (line: string) => void;
}

export interface StormResult {
  readonly nodes: number;
  readonly drained: number;
  readonly connections: number;
  /** From the reconnect until every node ACKed CDS, EDS, LDS and RDS again. */
  readonly reconnectMs: number;
  /** VmRSS of the restarted daemon before the storm, and after it. */
  readonly baselineRssBytes: number;
  readonly rssBytes: number;
  readonly rssBoundBytes: number;
  readonly daemonAlive: boolean;
  /** Nodes that got a wrong listener set (first few), and how many. */
  readonly wrong: readonly string[];
  readonly wrongCount: number;
  readonly drainState: string;
}

/** A smaller fleet than the benchmark's, so that thousands of nodes sync fast on two cores. */
const SHAPE: FleetShape = { groups: 4, listeners: 10, clusters: 10, endpointsPerCluster: 2 };
/** The nodes of this zone (every third) are drained. */
const DRAINED_ZONE = 'zone-0';

export async function vmRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

export async function runReconnectStorm(options: StormOptions): Promise<StormResult> {
  const log = options.log ?? (() => undefined);
  const { nodes } = options;
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-storm-'));
  const configFile = path.join(dir, 'fleet.yaml');
  const stateDir = path.join(dir, 'state');
  await writeFile(configFile, fleetConfigYaml(SHAPE, 0));
  const plans = groupPlans(SHAPE);
  const listeners = plans[0]!.inbound.length + plans[0]!.outbound.length;
  const ingress = plans[0]!.inbound.length;
  const syncTimeoutMs = 60_000 + nodes * 20;

  const streamsPerConnection = options.streamsPerConnection ?? 500;
  let daemon = await DaemonProcess.start({ configFile, stateDir, streamsPerConnection });
  let generator: LoadGenerator | undefined;
  try {
    const connected = await LoadGenerator.connect(
      {
        workers: options.workers ?? 1,
        host: '127.0.0.1',
        port: daemon.xdsPort,
        nodes,
        deltaPercent: 20,
        groups: plans,
        streamsPerConnection,
        connectWindow: 500,
      },
      syncTimeoutMs,
    );
    generator = connected.generator;
    const connections = connected.reports.reduce((s, r) => s + r.connections, 0);
    log(`${nodes} nodes synced over ${connections} connections`);

    const body = JSON.stringify({ selector: { locality: { zone: DRAINED_ZONE } }, scope: 'ingress', method: 'remove', measure: 'ack' });
    const created = await daemon.json<{ id: string }>('POST', '/v1/drains', body);
    if (created.status !== 201) throw new Error(`POST /v1/drains: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    const id = created.body.id;
    await waitUntil(
      `drain ${id} to complete`,
      async () => (await daemon.json<{ state: string }>('GET', `/v1/drains/${id}`)).body.state === 'completed',
      syncTimeoutMs,
      { intervalMs: 100 },
    );
    const before = await generator.ldsState();
    log(`drain ${id} completed on ${before.filter((n) => isDrained(n.index)).length} nodes`);

    // The kill: nodes see their streams fail, and come back all at once to the new process.
    await generator.outage();
    daemon.child.kill('SIGKILL');
    await new Promise((resolve) => daemon.child.once('exit', resolve));
    daemon = await DaemonProcess.start({ configFile, stateDir, streamsPerConnection });
    const baselineRssBytes = await vmRssBytes(daemon.pid);
    const t0 = Date.now();
    await generator.reconnect(daemon.xdsPort, syncTimeoutMs);
    const reconnectMs = Date.now() - t0;
    log(`${nodes} nodes reconnected and synced in ${reconnectMs} ms`);

    const after = await generator.ldsState();
    const wrong: string[] = [];
    for (const n of after) {
      const drained = isDrained(n.index);
      const expected = drained ? listeners - ingress : listeners;
      const previous = before[n.index]!;
      // SotW versions are hashes of the listener set: the same set gives the same version after a restart.
      const versionOk = n.delta || n.version === previous.version;
      if (n.resources !== expected || n.removed !== 0 || !versionOk) {
        wrong.push(
          `node ${n.index} (${drained ? 'drained' : 'not drained'}, ${n.delta ? 'Delta' : 'SotW'}): ${n.resources} listeners, ${n.removed} removed, ` +
            `version ${n.version} (before the kill ${previous.version}); expected ${expected}`,
        );
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    const rssBytes = await vmRssBytes(daemon.pid);
    const healthy = await fetch(`${daemon.apiUrl}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.ok,
      () => false,
    );
    // The API shows a drain completed as soon as its step is decided, a moment before the step
    // is stored: a kill in between restarts it running, and it completes again once its nodes
    // are back. Waited for (bounded), then read.
    const drainState = async () => (await daemon.json<{ state: string }>('GET', `/v1/drains/${id}`)).body.state;
    await waitUntil(`drain ${id} to be completed after the restart`, async () => (await drainState()) === 'completed', syncTimeoutMs, {
      intervalMs: 100,
    }).catch(() => {});
    const finalDrainState = await drainState();
    return {
      nodes,
      drained: after.filter((n) => isDrained(n.index)).length,
      connections,
      reconnectMs,
      baselineRssBytes,
      rssBytes,
      rssBoundBytes: baselineRssBytes + nodes * (options.rssPerNodeKiB ?? 50) * 1024,
      daemonAlive: daemon.child.exitCode === null && daemon.child.signalCode === null && healthy,
      wrong: wrong.slice(0, 5),
      wrongCount: wrong.length,
      drainState: finalDrainState,
    };
  } finally {
    await generator?.close();
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function isDrained(index: number): boolean {
  return nodeZone(index) === DRAINED_ZONE;
}
