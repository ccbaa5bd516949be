/**
 * A backend pod deleted behind a real Envoy, with drainplane as its EDS source fed by the real
 * EndpointSlice controller. The pods' processes run in network namespaces at the addresses
 * their EndpointSlice lists, and Envoy on the host reaches them through veth pairs. Under steady
 * load, the deleted pod is sent no new request once the controller marks it terminating
 * (DRAINING in Envoy), its request in progress finishes, and when its process then exits at once
 * on SIGTERM, as most applications do, no request fails. Over SotW and Delta ADS.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Pool } from 'undici';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { serviceGroup } from '../support/fleet-configs.js';
import { skipWithoutKube, startKubeCluster, type KubeCluster } from '../support/kube-cluster.js';
import { PodNetwork } from '../support/pod-network.js';
import { shippedAccount } from './manifest-rbac.js';
import { backendPod, node, SHOP } from './shop.js';
import { waitUntil } from '../support/wait.js';
import { ADS_APIS, bootstrapConfig, freeLoopbackPorts, readDemoFile, type AdsApi } from '../e2e-envoy/configs.js';
import { withRealEnvoy, type RealEnvoy } from '../e2e-envoy/envoy-binary.js';
import { EnvoyProcess } from '../e2e-envoy/envoy-process.js';

const BACKEND_MAIN = fileURLToPath(new URL('./pod-backend-main.js', import.meta.url));
const PODS = [
  { name: 'backend-0', node: 'node-a', ip: '10.244.11.7' },
  { name: 'backend-1', node: 'node-b', ip: '10.244.12.7' },
] as const;

const objects = SHOP + node('node-a') + node('node-b') + PODS.map((p) => backendPod(p.name, p.node)).join('');

/** One group per Envoy: an ingress listener on its port, routing to the Service's endpoints. */
const group = (api: AdsApi, port: number): string =>
  serviceGroup({
    name: `edge-${api}`,
    match: `{ ids: [envoy-${api}] }`,
    listeners: `
      - name: ingress_http
        traffic_direction: INBOUND
        address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
        filter_chains:
          - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  route_config:
                    name: ingress
                    virtual_hosts: [{ name: app, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: backend } }] }]
                  http_filters:
                    - name: envoy.filters.http.router
                      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`,
  });

/** Requests through one Envoy by a few keep-alive workers, counted by the pod that answered. */
class Load {
  readonly answered = new Map<string, number>();
  readonly failures: string[] = [];
  #running = true;
  readonly #pool: Pool;
  readonly #workers: Promise<void>[];

  constructor(port: number, workers = 4) {
    this.#pool = new Pool(`http://127.0.0.1:${port}`, { connections: workers + 2, headersTimeout: 10_000, bodyTimeout: 10_000 });
    this.#workers = Array.from({ length: workers }, () => this.#work());
  }

  async get(path: string): Promise<{ status: number; body: string }> {
    const res = await this.#pool.request({ method: 'GET', path });
    return { status: res.statusCode, body: await res.body.text() };
  }

  /**
   * A slow request held open on `pod`: tried until Envoy sends one there (its headers say where).
   * Resolves once it is held; `answer` settles when it is answered.
   */
  async holdOn(pod: string): Promise<{ readonly answer: Promise<{ status: number; body: string }> }> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const res = await this.#pool.request({ method: 'GET', path: '/?ms=2500' });
      if (res.headers['x-pod'] === pod) return { answer: res.body.text().then((body) => ({ status: res.statusCode, body })) };
      res.body.resume();
    }
    throw new Error(`Envoy sent no request to ${pod} in 20 tries`);
  }

  async #work(): Promise<void> {
    while (this.#running) {
      try {
        const { status, body } = await this.get('/');
        if (status !== 200) this.failures.push(`HTTP ${status}: ${body.slice(0, 200)}`);
        else this.answered.set(body, (this.answered.get(body) ?? 0) + 1);
      } catch (err) {
        this.failures.push((err as Error).message);
      }
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#workers);
    await this.#pool.close();
  }
}

withRealEnvoy('endpoints from Kubernetes on a real Envoy', (envoy) => register(envoy));

function register(envoy: RealEnvoy): void {
  describe(
    `a backend pod deleted behind a real Envoy (${envoy.version})`,
    { skip: skipWithoutKube() || PodNetwork.skipWithout(), timeout: 300_000 },
    () => {
      let cluster: KubeCluster;
      let d: TestDaemon;
      let dir: string;
      const networks = new Map<string, PodNetwork>();
      const envoys = new Map<AdsApi, { process: EnvoyProcess; port: number }>();

      before(async () => {
        const unavailable = PodNetwork.unavailable();
        if (unavailable) throw new Error(unavailable);
        dir = await mkdtemp(path.join(tmpdir(), 'drainplane-kube-envoy-'));
        cluster = await startKubeCluster();
        await cluster.apply(objects);
        for (const pod of PODS) {
          const network = await PodNetwork.create(pod.ip);
          networks.set(pod.name, network);
          const child = network.spawn(process.execPath, [BACKEND_MAIN, pod.name, pod.ip, '8080']);
          await new Promise((resolve, reject) => {
            child.stdout?.once('data', resolve);
            child.once('exit', (code) => reject(new Error(`${pod.name} exited with ${code}`)));
          });
          await cluster.readyPod('shop', pod.name, pod.ip);
        }
        const ports = await freeLoopbackPorts(ADS_APIS.length * 2);
        const kubeconfig = await shippedAccount(cluster, { file: 'ha.yaml', namespace: 'drainplane', name: 'drainplane', roleNamespace: 'shop' });
        const config = `kubernetes: { kubeconfig: ${kubeconfig} }\ngroups:${ADS_APIS.map((api, i) => group(api, ports[i * 2]!)).join('')}\n`;
        d = await startTestDaemon(config);
        const demo = await readDemoFile('bootstrap.yaml');
        for (const [i, api] of ADS_APIS.entries()) {
          const bootstrapFile = path.join(dir, `bootstrap-${api}.yaml`);
          const adminPort = ports[i * 2 + 1]!;
          await writeFile(
            bootstrapFile,
            bootstrapConfig(demo, { nodeId: `envoy-${api}`, cluster: 'edge', xdsPort: d.daemon.xdsPort, adminPort, adsApi: api }),
          );
          const started = EnvoyProcess.start({
            name: `envoy-${api}`,
            bin: envoy.bin,
            bootstrapFile,
            adminPort,
            baseId: (process.pid % 100_000) * 100 + 70 + i,
            drainTimeSeconds: 5,
          });
          envoys.set(api, { process: started, port: ports[i * 2]! });
        }
      });
      after(async () => {
        for (const e of envoys.values()) await e.process.stop();
        await d?.close();
        for (const n of networks.values()) await n.destroy();
        await cluster?.stop();
        if (dir) await rm(dir, { recursive: true, force: true });
      });

      test('no request fails: the deleted pod is DRAINING before its process exits, and its request in progress finishes', async () => {
        const loads = new Map<AdsApi, Load>();
        for (const [api, e] of envoys) {
          // Both pods answer through the Envoy: it has the Service's endpoints.
          const probe = new Load(e.port, 0);
          await waitUntil(
            `${api}: both pods answer through Envoy`,
            async () => {
              const seen = new Set<string>();
              for (let i = 0; i < 8; i++) {
                const { status, body } = await probe.get('/').catch(() => ({ status: 0, body: '' }));
                if (status === 200) seen.add(body);
              }
              return seen.size === 2;
            },
            60_000,
          );
          await probe.stop();
          loads.set(api, new Load(e.port));
        }
        await new Promise((r) => setTimeout(r, 500));
        // A request in progress on the pod to be deleted, through each Envoy.
        const slow = await Promise.all([...loads.values()].map((l) => l.holdOn('backend-1')));

        const deleted = Date.now();
        await cluster.kubectl(['delete', 'pod', '-n', 'shop', 'backend-1', '--wait=false']);
        // Envoy sends it nothing new once DRAINING: its count stops moving.
        let last = new Map<AdsApi, number>();
        let stillAt = Date.now();
        await waitUntil(
          'no new request to the deleted pod for 1 s',
          () => {
            const now = new Map([...loads].map(([api, l]) => [api, l.answered.get('backend-1') ?? 0]));
            if ([...now].some(([api, n]) => last.get(api) !== n)) {
              last = now;
              stillAt = Date.now();
            }
            return Date.now() - stillAt >= 1000;
          },
          30_000,
          { intervalMs: 50 },
        );
        console.log(`pod deletion to its last new request through Envoy: ${stillAt - deleted} ms`);

        const slowAnswers = await Promise.all(slow.map((held) => held.answer));
        assert.deepEqual(
          slowAnswers,
          slowAnswers.map(() => ({ status: 200, body: 'backend-1' })),
          'the requests in progress on the deleted pod finished',
        );
        // The kubelet's SIGTERM: the process exits at once.
        await networks.get('backend-1')!.destroy();
        networks.delete('backend-1');
        await new Promise((r) => setTimeout(r, 1000));
        await cluster.kubectl(['delete', 'pod', '-n', 'shop', 'backend-1', '--grace-period=0', '--force']);
        await new Promise((r) => setTimeout(r, 1000));
        for (const [api, load] of loads) {
          await load.stop();
          assert.deepEqual(load.failures, [], `${api}: no request failed`);
          assert.ok(
            (load.answered.get('backend-0') ?? 0) > 0 && (load.answered.get('backend-1') ?? 0) > 0,
            `${api}: both pods served: ${JSON.stringify([...load.answered])}`,
          );
          console.log(`${api}: ${[...load.answered].map(([pod, n]) => `${pod} ${n}`).join(', ')} requests, ${load.failures.length} failed`);
        }
      });
    },
  );
}
