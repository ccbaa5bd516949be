/**
 * The processes and files of one arm, fresh for each: the replicas' ports, fleet configs and
 * bootstraps (derived from envoy/ by the real-Envoy suite's helpers), the control plane the
 * plain-Envoy setups take their config from (`drainplane serve`, standing in for istiod or Envoy
 * Gateway's: it plays no part in their shutdown), the pods and the balancer.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapConfig, fleetConfig, freeLoopbackPorts, readDemoFile, type NodePorts } from '../../test/e2e-envoy/configs.js';
import { Balancer } from './balancer.js';
import { Pod, plainEnvoy, type ArmKind, type PodPorts } from './pod.js';
import { BenchProcess } from './processes.js';

const DRAINPLANE = fileURLToPath(new URL('../../../bin/drainplane.js', import.meta.url));
const CLUSTER = 'rolling-restart';
export const REPLICAS = ['a', 'b'] as const;

export interface SetupOptions {
  readonly kind: ArmKind;
  readonly baseDir: string;
  readonly envoyBin: string;
  readonly haproxyBin: string;
  readonly upstreamPort: number;
  readonly graceSeconds: number;
  readonly prestopSleepSeconds: number;
}

export interface ArmSetup {
  readonly dir: string;
  readonly pods: readonly Pod[];
  readonly balancer: Balancer;
  readonly servicePort: number;
  close(): Promise<void>;
}

/** Starts everything but the load; on failure, stops what it started and rethrows. */
export async function startArm(o: SetupOptions): Promise<ArmSetup> {
  const dir = await mkdtemp(path.join(o.baseDir, `${o.kind}-`));
  const started: { controlPlane?: BenchProcess; pods: Pod[]; balancer?: Balancer } = { pods: [] };
  const close = async (): Promise<void> => {
    await Promise.allSettled(started.pods.map((p) => p.kill()));
    await Promise.allSettled([started.balancer?.stop(), started.controlPlane?.stop()]);
  };
  try {
    const [servicePort, cpXds, cpApi, ...free] = await freeLoopbackPorts(3 + 6 * REPLICAS.length);
    const ports: PodPorts[] = REPLICAS.map((_, i) => {
      const [ingress, egress, admin, xds, api, probe] = free.slice(6 * i, 6 * i + 6) as [number, number, number, number, number, number];
      return { ingress, egress, admin, xds, api, probe };
    });
    const nodes: NodePorts[] = REPLICAS.map((name, i) => ({
      id: `replica-${name}`,
      ingressPort: ports[i]!.ingress,
      egressPort: ports[i]!.egress,
      adminPort: ports[i]!.admin,
    }));
    const demoConfig = await readDemoFile('drainplane.yaml');
    const demoBootstrap = await readDemoFile('bootstrap.yaml');
    if (plainEnvoy(o.kind)) {
      const configFile = path.join(dir, 'fleet.yaml');
      await writeFile(configFile, fleetConfig(demoConfig, { cluster: CLUSTER, nodes, http1Port: o.upstreamPort }));
      started.controlPlane = BenchProcess.start({
        name: 'drainplane serve',
        command: process.execPath,
        args: [
          DRAINPLANE,
          'serve',
          '--config',
          configFile,
          '--xds-port',
          String(cpXds),
          '--api-port',
          String(cpApi),
          '--state-dir',
          path.join(dir, 'control-plane'),
          '--no-watch',
          '--log-level',
          'warn',
        ],
      });
    }

    for (const [i, name] of REPLICAS.entries()) {
      const node = nodes[i]!;
      const configFile = path.join(dir, `replica-${name}.yaml`);
      await writeFile(configFile, fleetConfig(demoConfig, { cluster: CLUSTER, nodes: [node], http1Port: o.upstreamPort }));
      const bootstrapFile = path.join(dir, `bootstrap-${name}.yaml`);
      const xdsPort = plainEnvoy(o.kind) ? cpXds! : ports[i]!.xds;
      await writeFile(
        bootstrapFile,
        bootstrapConfig(demoBootstrap, { nodeId: node.id, cluster: CLUSTER, xdsPort, adminPort: node.adminPort, adsApi: 'GRPC' }),
      );
      const pod = new Pod({
        kind: o.kind,
        name,
        envoyBin: o.envoyBin,
        bootstrapFile,
        configFile,
        ports: ports[i]!,
        dir,
        graceSeconds: o.graceSeconds,
        prestopSleepSeconds: o.prestopSleepSeconds,
      });
      started.pods.push(pod);
      await pod.start();
    }

    await Promise.all(started.pods.map((pod) => waitUntilServing(pod)));
    started.balancer = await Balancer.start({
      bin: o.haproxyBin,
      dir,
      port: servicePort!,
      servers: REPLICAS.map((name, i) => ({ name, port: ports[i]!.ingress })),
    });
    return { dir, pods: started.pods, balancer: started.balancer, servicePort: servicePort!, close };
  } catch (err) {
    const tails = started.pods.map((p) => `--- ${p.options.name}:\n${p.outputTail()}`).join('\n');
    await close();
    throw new Error(`${o.kind}: start-up failed: ${(err as Error).message}\n${tails}`, { cause: err });
  }
}

/** Start-up only: ready, and both listeners answer (so the arm starts from a healthy pair). */
async function waitUntilServing(pod: Pod): Promise<void> {
  const p = pod.options.ports;
  const deadline = performance.now() + 45_000;
  const checks: [string, () => Promise<boolean>][] = [
    ['ready', () => pod.ready()],
    ['ingress answers', () => answers(p.ingress)],
    ['egress answers', () => answers(p.egress)],
  ];
  for (const [what, check] of checks) {
    while (!(await check())) {
      if (pod.exited) throw new Error(`replica ${pod.options.name} exited while waiting until ${what}`);
      if (performance.now() > deadline) throw new Error(`replica ${pod.options.name}: not ${what} within 45 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** One GET on a new connection; true on 2xx. */
export async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/probe`, { signal: AbortSignal.timeout(1_000), headers: { connection: 'close' } });
    await res.arrayBuffer();
    return res.status >= 200 && res.status < 300;
  } catch {
    return false;
  }
}
