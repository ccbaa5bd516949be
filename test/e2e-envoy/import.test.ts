/**
 * `drainplane import` against a real Envoy. A static bootstrap (an INBOUND listener with a direct
 * response, a route to the app and a header-matching route with a rewrite; an egress listener
 * without traffic_direction to another upstream; an HTTPS listener whose certificate is a static
 * secret; a statsd sink on a static cluster) is run, and a
 * fixed set of requests answered. Then the bootstrap is imported, drainplane serves the config and
 * the same Envoy binary runs the new bootstrap: the same requests get the same answers, now from
 * listeners that came over LDS, and a first drain of the ingress completes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { staticCluster } from '../fleet/import/bootstrap-fixture.js';
import { runCli, startCli, type CliProcess } from '../support/cli.js';
import { createTestPki, type CertFiles } from '../support/test-pki.js';
import { waitUntil } from '../support/wait.js';
import { freeLoopbackPorts } from './configs.js';
import { withRealEnvoy } from './envoy-binary.js';
import { EnvoyProcess } from './envoy-process.js';
import { keepAlive } from './http-get.js';
import { httpsGet } from './https-get.js';
import { Http1Upstream } from './upstreams.js';

const CLUSTER = 'imported-e2e';
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

interface Ports {
  readonly ingress: number;
  readonly https: number;
  readonly egress: number;
  readonly admin: number;
  readonly xds: number;
  readonly api: number;
}

interface Request {
  readonly listener: 'ingress' | 'egress' | 'https';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const REQUESTS: readonly Request[] = [
  { listener: 'ingress', path: '/direct' },
  { listener: 'ingress', path: '/app/hello' },
  { listener: 'ingress', path: '/app/hello', headers: { 'x-canary': 'yes' } },
  { listener: 'ingress', path: '/app/hello', headers: { 'x-canary': 'no' } },
  { listener: 'egress', path: '/api/v1/items' },
  { listener: 'https', path: '/app/hello' },
];

let nextBaseId = 1;

withRealEnvoy('drainplane import', (envoy) => {
  test(
    `drainplane import: a static Envoy (${envoy.version}) answers the same from the imported config, then drains`,
    { timeout: 120_000 },
    async (t) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-import-e2e-'));
      const app = await Http1Upstream.start();
      const api = await Http1Upstream.start();
      const statsd = await tcpSink();
      const [ingress, https, egress, admin, xds, apiPort] = await freeLoopbackPorts(6);
      const ports: Ports = { ingress: ingress!, https: https!, egress: egress!, admin: admin!, xds: xds!, api: apiPort! };
      const pki = await createTestPki();
      const server = await pki.issue('imported-server', { sans: ['DNS:localhost'], serial: 'C0FFEE' });
      const tls = { ca: await readFile(pki.caCert, 'utf8'), server };
      const envoys: EnvoyProcess[] = [];
      let serve: CliProcess | undefined;
      t.after(async () => {
        await Promise.allSettled(envoys.map((e) => e.stop()));
        serve?.child.kill('SIGTERM');
        await serve?.exited;
        await Promise.allSettled([app.close(), api.close(), new Promise((resolve) => statsd.server.close(resolve))]);
        await rm(dir, { recursive: true, force: true });
        await pki.close();
      });
      const startEnvoy = (name: string, bootstrapFile: string): EnvoyProcess => {
        const started = EnvoyProcess.start({
          name,
          bin: envoy.bin,
          bootstrapFile,
          adminPort: ports.admin,
          baseId: (process.pid % 100_000) * 100 + nextBaseId++,
          drainTimeSeconds: 5,
        });
        envoys.push(started);
        return started;
      };
      const answered = async (e: EnvoyProcess): Promise<Answer[]> => {
        try {
          return await waitUntil(`${e.name} to answer every request`, async () => Promise.all(REQUESTS.map((r) => answer(ports, r, tls.ca))), 20_000);
        } catch (err) {
          throw new Error(`${(err as Error).message}\n${e.outputTail()}`, { cause: err });
        }
      };

      // The static Envoy and its answers.
      const staticFile = path.join(dir, 'envoy.yaml');
      // YAML 1.1 quoting: Envoy's reader takes an unquoted `yes` for a boolean.
      await writeFile(staticFile, YAML.stringify(staticBootstrap(ports, app.port, api.port, statsd.port, tls.server), { version: '1.1' }));
      const staticEnvoy = startEnvoy('static', staticFile);
      const before = await answered(staticEnvoy);
      assert.deepEqual(
        before.map((a) => [a.status, a.listener]),
        [
          [418, 'ingress'],
          [200, 'ingress'],
          [200, 'ingress'],
          [200, 'ingress'],
          [200, 'egress'],
          [200, 'https'],
        ],
      );
      assert.equal(before[5]!.certificate, 'C0FFEE', 'the HTTPS listener presents the static secret');
      assert.equal(before[2]!.body, 'ok /canary/app/hello\n', 'the header-matching route rewrote the path');
      await waitUntil('the statsd sink to reach its static cluster', () => statsd.bytes() > 0, 10_000);
      await staticEnvoy.stop();

      // Import, then drainplane and the same Envoy binary on what import wrote.
      const out = path.join(dir, 'out');
      const imported = await runCli([
        'import',
        '--bootstrap',
        staticFile,
        '--out',
        out,
        '--role',
        'egress_http=egress',
        '--xds-address',
        `127.0.0.1:${ports.xds}`,
      ]);
      assert.equal(imported.code, 0, imported.stderr);
      t.diagnostic(imported.stdout.trim());
      const configFile = path.join(out, 'drainplane.yaml');
      const validated = await runCli(['validate', '--config', configFile]);
      assert.equal(validated.code, 0, validated.stderr);
      serve = startCli([
        'serve',
        '--config',
        configFile,
        '--xds-port',
        String(ports.xds),
        '--api-port',
        String(ports.api),
        '--state-dir',
        path.join(dir, 'state'),
      ]);
      await serve.waitForLog((l) => l['event'] === 'started');
      const statsBefore = statsd.bytes();
      const served = startEnvoy('imported', path.join(out, 'envoy-bootstrap.yaml'));
      const after = await answered(served);
      assert.deepEqual(after, before, 'the same answers from the listeners drainplane serves');
      assert.deepEqual(
        (await served.dynamicListeners()).map((l) => [l.name, l.active_state !== undefined]),
        [
          ['egress_http', true],
          ['ingress_http', true],
          ['ingress_https', true],
        ],
        'every listener came over LDS',
      );
      assert.match(imported.stdout, /secrets server_cert \(over SDS\)/);
      assert.equal(JSON.parse((await served.admin('GET', '/config_dump?resource=dynamic_active_secrets')).body).configs[0].name, 'server_cert');
      await waitUntil('the statsd sink to report again, from the cluster kept static', () => statsd.bytes() > statsBefore, 10_000);
      await serve.waitForLog((l) => l['event'] === 'metrics_connected', 10_000);

      // The first drain: ingress goes, egress stays.
      const started = Date.now();
      const drain = await runCli(
        ['drain', '--api', `http://127.0.0.1:${ports.api}`, '--selector', `cluster=${CLUSTER}`, '--scope', 'ingress', '--deadline', '30', '--wait'],
        45_000,
      );
      assert.equal(drain.code, 0, `${drain.stdout}\n${drain.stderr}`);
      assert.match(drain.stdout, /ingress: imported-1 drained \(1\/1\)/);
      t.diagnostic(`ingress drain completed in ${Date.now() - started} ms`);
      assert.deepEqual(await served.listenerNames(), ['egress_http']);
      assert.deepEqual(await answer(ports, REQUESTS[4]!, tls.ca), after[4], 'egress answers as before');
    },
  );
});

interface Answer {
  readonly status: number;
  readonly body: string;
  /** The `x-listener` header the listener's route config adds. */
  readonly listener: string;
  /** The serial number of the certificate an HTTPS listener presented; '' over HTTP. */
  readonly certificate: string;
}

async function answer(ports: Ports, r: Request, ca: string): Promise<Answer> {
  if (r.listener === 'https') return httpsAnswer(ports.https, r, ca);
  const client = keepAlive(r.listener === 'ingress' ? ports.ingress : ports.egress);
  try {
    const res = await client.request({ method: 'GET', path: r.path, headers: { ...r.headers } });
    return { status: res.statusCode, body: await res.body.text(), listener: String(res.headers['x-listener'] ?? ''), certificate: '' };
  } finally {
    await client.destroy().catch(() => {});
  }
}

async function httpsAnswer(port: number, r: Request, ca: string): Promise<Answer> {
  const { status, body, headers, serial } = await httpsGet({ port, path: r.path, ca });
  return { status, body, listener: String(headers['x-listener'] ?? ''), certificate: serial };
}

function staticBootstrap(ports: Ports, appPort: number, apiPort: number, statsdPort: number, server: CertFiles): Record<string, unknown> {
  return {
    node: { id: 'imported-1', cluster: CLUSTER },
    admin: { address: socket(ports.admin) },
    stats_flush_interval: '1s',
    stats_sinks: [
      {
        name: 'envoy.stat_sinks.statsd',
        typed_config: { '@type': 'type.googleapis.com/envoy.config.metrics.v3.StatsdSink', tcp_cluster_name: 'statsd' },
      },
    ],
    static_resources: {
      listeners: [
        httpListener('ingress_http', ports.ingress, 'ingress', [
          { match: { prefix: '/direct' }, direct_response: { status: 418, body: { inline_string: 'short and stout\n' } } },
          {
            match: { prefix: '/', headers: [{ name: 'x-canary', string_match: { exact: 'yes' } }] },
            route: { cluster: 'app', prefix_rewrite: '/canary/' },
          },
          { match: { prefix: '/' }, route: { cluster: 'app' } },
        ]),
        // No traffic_direction: import is told its role.
        httpListener('egress_http', ports.egress, undefined, [{ match: { prefix: '/' }, route: { cluster: 'api' } }]),
        // TLS from a static secret, which import serves over SDS.
        httpListener('ingress_https', ports.https, 'ingress', [{ match: { prefix: '/' }, route: { cluster: 'app' } }], 'https'),
      ],
      secrets: [{ name: 'server_cert', tls_certificate: { certificate_chain: { filename: server.cert }, private_key: { filename: server.key } } }],
      clusters: [staticCluster('app', appPort), staticCluster('api', apiPort), staticCluster('statsd', statsdPort)],
    },
  };
}

function httpListener(
  name: string,
  port: number,
  direction: 'ingress' | undefined,
  routes: unknown[],
  role = name.replace(/_http$/, ''),
): Record<string, unknown> {
  return {
    name,
    ...(direction && { traffic_direction: 'INBOUND' }),
    address: socket(port),
    filter_chains: [
      {
        ...(role === 'https' && {
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
              common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'server_cert' }] },
            },
          },
        }),
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: name,
              route_config: {
                response_headers_to_add: [{ header: { key: 'x-listener', value: role } }],
                virtual_hosts: [{ name: role, domains: ['*'], routes }],
              },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
            },
          },
        ],
      },
    ],
  };
}

function socket(port: number): Record<string, unknown> {
  return { socket_address: { address: '127.0.0.1', port_value: port } };
}

/** A TCP server that takes what the statsd sink sends and counts the bytes. */
async function tcpSink(): Promise<{ server: net.Server; port: number; bytes: () => number }> {
  let bytes = 0;
  const server = net.createServer((s) => {
    s.on('data', (c: Buffer) => (bytes += c.length));
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, bytes: () => bytes };
}
