/**
 * A remove drain (scope all) of a real Envoy's TCP proxy listeners, an ingress and an egress
 * one, each carrying three TCP connections from node:net clients to an echo upstream once the
 * listener drains: one whose client writes, one the upstream writes 4 MiB to, one idle. What
 * the clients see depends on the Envoy (../shared/ENVOY-FACTS.md, "What clients see while a
 * listener drains"):
 *  - 1.39 and later: drainplane sent `check_drain_close: true` (it is in /config_dump), so the
 *    connections that read or write are closed within moments, with a FIN; the pushed one gets
 *    what Envoy had read of the push first (its writes are flushed; seen on 1.40.0: 1 MiB, the
 *    per-connection buffer limit, of 4 MiB); the idle one lasts until the drain time ends;
 *  - before 1.39: no field, no signal: both busy connections keep working, and all three are
 *    cut when the drain time ends.
 * On every version the listeners' `downstream_cx_active` counts the TCP connections, so a phase
 * ends only after its last one closed, and the drain's create answer warns about the idle ones.
 *
 * `npm test` runs it on the pinned Envoy; `ENVOY_VERSION=1.36.2 node scripts/run-tests.mjs e2e-envoy` on another.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { releaseFromVersionString } from '../../src/admin/server-info.js';
import { atLeast } from '../../src/cache/envoy-version.js';
import { TERMINAL, type Drain } from '../../src/fleet/drain/model.js';
import { CHECK_DRAIN_CLOSE_SINCE } from '../../src/fleet/tcp-proxy.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { TCP_EGRESS, TCP_INGRESS, tcpProxyConfig } from '../support/tcp-proxy-config.js';
import { waitUntil } from '../support/wait.js';
import { bootstrapConfig, freeLoopbackPorts, readDemoFile } from './configs.js';
import { withRealEnvoy } from './envoy-binary.js';
import { EnvoyProcess } from './envoy-process.js';
import { daemonApi as api, LogTail } from './fleet.js';
import { EchoUpstream, PUSH_BYTES, TcpClient, type TcpEnding } from './tcp-peers.js';

const CLUSTER = 'drainplane-e2e-tcp';
const NODE = 'e2e-tcp-drained';
const DRAIN_TIME_S = 6;
/** A graceful close comes at the write, long before the drain time ends. */
const GRACEFUL_WITHIN_MS = 2_000;
const PING = 'ping\n';

type Json = Record<string, any>;

withRealEnvoy('TCP proxy drain', (envoy) => {
  const release = releaseFromVersionString(envoy.version) ?? envoy.version;
  const graceful = atLeast(release, CHECK_DRAIN_CLOSE_SINCE);

  describe(`drainplane drains a real Envoy's TCP proxy listeners (${release})`, { timeout: 120_000 }, () => {
    let dir: string | undefined;
    let upstream: EchoUpstream | undefined;
    let daemon: TestDaemon | undefined;
    let proxy: EnvoyProcess | undefined;
    const logs = new LogTail();
    const clients: TcpClient[] = [];
    const ports = { ingress: 0, egress: 0 };

    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'drainplane-e2e-tcp-'));
      upstream = await EchoUpstream.start();
      const [xdsPort, apiPort, adminPort, ingressPort, egressPort] = await freeLoopbackPorts(5);
      Object.assign(ports, { ingress: ingressPort!, egress: egressPort! });
      daemon = await startTestDaemon(
        tcpProxyConfig({ cluster: CLUSTER, ingressPort: ingressPort!, egressPort: egressPort!, upstreamPort: upstream.port }),
        // Connection counts from Envoy's metrics_service stream only (the admin poll is pushed out).
        { xdsPort: xdsPort!, apiPort: apiPort!, gaugePollMs: 3_600_000, logger: pino({ level: 'info' }, logs) },
      );
      const bootstrapFile = path.join(dir, 'bootstrap.yaml');
      await writeFile(
        bootstrapFile,
        bootstrapConfig(await readDemoFile('bootstrap.yaml'), {
          nodeId: NODE,
          cluster: CLUSTER,
          xdsPort: xdsPort!,
          adminPort: adminPort!,
          adsApi: 'GRPC',
        }),
      );
      proxy = EnvoyProcess.start({
        name: NODE,
        bin: envoy.bin,
        bootstrapFile,
        adminPort: adminPort!,
        baseId: (process.pid % 100_000) * 100 + 80,
        drainTimeSeconds: DRAIN_TIME_S,
      });
      const d = daemon.daemon;
      await waitUntil(
        `${NODE} to ACK its clusters and listeners`,
        () => {
          if (proxy?.exit) throw new Error(`envoy exited: ${proxy.outputTail(2_000)}`);
          const status = d.nodes.get(NODE);
          const nack = status?.types.lds?.lastNack ?? status?.types.cds?.lastNack;
          if (nack) throw new Error(`Envoy NACKed: ${nack.message}`);
          const wanted = d.cache.snapshot(NODE);
          return (
            wanted !== undefined &&
            status?.types.lds?.acked?.version === wanted.get(TypeUrl.Listener).version &&
            status.types.cds?.acked?.version === wanted.get(TypeUrl.Cluster).version
          );
        },
        45_000,
      );
      await waitUntil('the metrics_service stream to connect', () => logs.has('metrics_connected', { node: NODE }), 20_000);
    });

    after(async () => {
      for (const c of clients) c.destroy();
      await proxy?.stop();
      await daemon?.close();
      await upstream?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test(`${graceful ? 'busy TCP connections close at once, flushed' : 'no graceful close'}; idle ones end at the drain time`, async (t) => {
      const envoyProcess = proxy!;
      try {
        // drainplane sent check_drain_close to this Envoy only when it has the field.
        const active = new Map<string, Json>();
        await waitUntil('both listeners active in /config_dump', async () => {
          for (const l of await envoyProcess.dynamicListeners()) if (l.active_state) active.set(l.name, l.active_state.listener);
          return active.has(TCP_INGRESS) && active.has(TCP_EGRESS);
        });
        for (const name of [TCP_INGRESS, TCP_EGRESS]) {
          const tcp = active.get(name)?.['filter_chains']?.[0]?.['filters']?.[0]?.['typed_config'] as Json;
          assert.equal(tcp['check_drain_close'], graceful ? true : undefined, `${name}: ${JSON.stringify(tcp)}`);
        }

        // Three TCP connections through each listener, each carrying data both ways.
        const open = async (port: number, name: string) => {
          const c = await TcpClient.connect(port);
          clients.push(c);
          const hello = `hello ${name}\n`;
          c.write(hello);
          await c.receivedAtLeast(hello.length, 5_000);
          return c;
        };
        const listenerClients = async (port: number, listener: string): Promise<ListenerClients> => ({
          listener,
          writer: await open(port, `${listener}-writer`),
          pushed: await open(port, `${listener}-pushed`),
          idle: await open(port, `${listener}-idle`),
        });
        const ingress = await listenerClients(ports.ingress, TCP_INGRESS);
        const egress = await listenerClients(ports.egress, TCP_EGRESS);
        // Envoy's listener gauge counts TCP proxy connections.
        const gauge = (port: number) => envoyProcess.stat(`listener.127.0.0.1_${port}.downstream_cx_active`);
        assert.equal(await gauge(ports.ingress), 3, 'ingress downstream_cx_active counts its 3 TCP connections');
        assert.equal(await gauge(ports.egress), 3, 'egress downstream_cx_active counts its 3 TCP connections');

        const created = await api(daemon!, 'POST', '/v1/drains', { selector: { ids: [NODE] }, scope: 'all', method: 'remove', deadlineSeconds: 60 });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const ingressStartedAt = Date.now();
        const drain = created.body as Drain;
        const warnings = drain.warnings.join('\n');
        if (graceful) assert.match(warnings, /TCP proxy listeners egress_tcp, ingress_tcp on 1 node close a TCP connection.*idle one/);
        else assert.match(warnings, /TCP proxy listeners egress_tcp, ingress_tcp on 1 node get no drain signal/);
        const current = () => daemon!.daemon.drains.get(drain.id)!;

        // Ingress: the listener goes; drainplane counts the open TCP connections on it.
        await waitUntil(`${TCP_INGRESS} removed`, async () => !(await envoyProcess.listenerNames()).includes(TCP_INGRESS), 5_000);
        await waitUntil(
          'the ingress phase to count the TCP connections',
          () => {
            const n = current().phases[0]!.nodes[0]!;
            return n.state === 'acked' && (n.listeners[0]?.connections ?? 0) >= 1;
          },
          5_000,
        );
        const ingressSeen = await busyWhileDraining(ingress);
        note(t, ingressStartedAt, ingressSeen);
        expectSeen(ingressSeen, ingressStartedAt);
        for (const c of [egress.writer, egress.pushed, egress.idle])
          assert.equal(c.ending, undefined, 'egress connections stay while ingress drains');

        // Egress starts only once ingress counted no connection; the same there.
        await waitUntil('the egress phase to start', () => current().phases[1]!.state === 'running', 10_000);
        const egressStartedAt = Date.parse(current().phases[1]!.startedAt!);
        assert.ok(egressStartedAt >= ingressSeen.idle.at, 'the idle ingress connection held the ingress phase');
        await waitUntil(`${TCP_EGRESS} removed`, async () => !(await envoyProcess.listenerNames()).includes(TCP_EGRESS), 5_000);
        const egressSeen = await busyWhileDraining(egress);
        note(t, egressStartedAt, egressSeen);
        expectSeen(egressSeen, egressStartedAt);

        await waitUntil('the drain to end', () => TERMINAL.has(current().state), 15_000);
        const done = (await api(daemon!, 'GET', `/v1/drains/${drain.id}`)).body as Drain;
        assert.equal(done.state, 'completed', JSON.stringify(done, null, 2));
        assert.deepEqual(
          done.phases.map((p) => [p.name, p.state, p.nodes[0]!.state, p.nodes[0]!.listeners]),
          [
            ['ingress', 'done', 'drained', [{ name: TCP_INGRESS, connections: 0 }]],
            ['egress', 'done', 'drained', [{ name: TCP_EGRESS, connections: 0 }]],
          ],
        );
      } catch (err) {
        console.error(`--- envoy ${NODE}, last output:\n${envoyProcess.outputTail(4_000)}\n--- drainplane:\n${logs.tail(40)}`);
        throw err;
      }
    });

    /** After its listener was removed: the writer writes, the upstream pushes; then every connection's end. */
    async function busyWhileDraining(c: ListenerClients): Promise<Seen> {
      const before = { writer: c.writer.received, pushed: c.pushed.received, upstream: upstream!.readFrom(`${c.listener}-writer`) };
      const at = Date.now();
      c.writer.write(PING);
      upstream!.push(`${c.listener}-pushed`);
      const [writer, pushed, idle] = await Promise.all([c.writer.ended, c.pushed.ended, c.idle.ended]);
      return {
        listener: c.listener,
        at,
        writer,
        writerEcho: writer.received - before.writer,
        writerForwarded: upstream!.readFrom(`${c.listener}-writer`) - before.upstream,
        pushed,
        pushedBytes: pushed.received - before.pushed,
        idle,
      };
    }

    function expectSeen(s: Seen, phaseStartedAt: number): void {
      if (graceful) {
        for (const [what, end] of [
          ['writer', s.writer],
          ['pushed', s.pushed],
        ] as const) {
          assert.ok(end.at - s.at < GRACEFUL_WITHIN_MS, `${s.listener} ${what}: closed ${end.at - s.at} ms after its data, not at the drain time`);
          assert.equal(end.how, 'end', `${s.listener} ${what}: closed with a FIN, not reset`);
        }
        // Envoy flushes what it holds for the client (on 1.40.0 the 1 MiB it read of the push, its
        // per-connection buffer limit); what it has not read from the upstream yet is dropped.
        assert.ok(s.pushedBytes > 0, `${s.listener}: the data Envoy held for the client reached it before the FIN`);
      } else {
        assert.equal(s.writerEcho, PING.length, `${s.listener}: the writer's connection kept working while its listener drained`);
        assert.equal(s.pushedBytes, PUSH_BYTES, `${s.listener}: the pushed connection kept working while its listener drained`);
        expectCutAtDrainTime(`${s.listener} writer`, s.writer, phaseStartedAt);
        expectCutAtDrainTime(`${s.listener} pushed`, s.pushed, phaseStartedAt);
      }
      expectCutAtDrainTime(`${s.listener} idle`, s.idle, phaseStartedAt);
    }
  });
});

function expectCutAtDrainTime(what: string, end: TcpEnding, phaseStartedAt: number): void {
  const after = end.at - phaseStartedAt;
  assert.ok(after >= (DRAIN_TIME_S - 1) * 1_000, `${what}: ended ${after} ms into the drain, not at the drain time (${DRAIN_TIME_S} s)`);
  assert.ok(after < (DRAIN_TIME_S + 5) * 1_000, `${what}: ended ${after} ms into the drain`);
}

interface ListenerClients {
  readonly listener: string;
  readonly writer: TcpClient;
  readonly pushed: TcpClient;
  readonly idle: TcpClient;
}

/** What the clients of one listener saw once it drained; times in ms since the epoch. */
interface Seen {
  readonly listener: string;
  /** When the writer wrote and the upstream pushed. */
  readonly at: number;
  readonly writer: TcpEnding;
  /** Bytes echoed back to the writer after its write, and bytes of it that reached the upstream. */
  readonly writerEcho: number;
  readonly writerForwarded: number;
  readonly pushed: TcpEnding;
  readonly pushedBytes: number;
  readonly idle: TcpEnding;
}

function note(t: { diagnostic: (m: string) => void }, startedAt: number, s: Seen): void {
  const at = (ms: number) => `+${ms - startedAt} ms`;
  t.diagnostic(
    `${s.listener}: data at ${at(s.at)}; writer ended (${s.writer.how}) at ${at(s.writer.at)}, echo ${s.writerEcho} B, ` +
      `upstream got ${s.writerForwarded} B of it; pushed ended (${s.pushed.how}) at ${at(s.pushed.at)} with ${s.pushedBytes} B; ` +
      `idle ended (${s.idle.how}) at ${at(s.idle.at)}`,
  );
}
