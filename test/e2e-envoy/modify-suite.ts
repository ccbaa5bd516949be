/**
 * Modify drains of a real Envoy: a listener changed over LDS (drainplane marks its metadata)
 * stays in Envoy as a draining old version until `--drain-time-s` ends, while the new version
 * accepts (../shared/ENVOY-FACTS.md, "LDS modification"). The ACK comes as soon as the new
 * version is warming, so a phase judged by the ACK ends long before Envoy has drained anything.
 * These scenarios check that a modify phase ends only once Envoy no longer drains, that egress
 * starts after that, that a cancel mid-phase stays cancelled, and that a node that goes away
 * while draining times out at its deadline. Envoy's own view comes from its admin /config_dump
 * (ListenerWatch); drainplane gets no admin reads here (see fleet.ts), only the metrics stream.
 *
 * Registered by modify-drain.test.ts, once per ADS flavour.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import { TERMINAL, type Drain } from '../../src/fleet/drain/model.js';
import { waitUntil } from '../support/wait.js';
import { EGRESS_LISTENER, INGRESS_LISTENER, type AdsApi } from './configs.js';
import type { RealEnvoy } from './envoy-binary.js';
import { Fleet, type FleetNode } from './fleet.js';
import { ListenerWatch } from './listener-watch.js';

const CLUSTER = 'drainplane-e2e-modify';
const MODIFIED = 'e2e-envoy-modified';
/** Cancelled mid-phase, then stopped mid-phase: the last scenario ends its Envoy. */
const SECOND = 'e2e-envoy-second';
/** Short, so that the phases that wait for Envoy's drain stay quick; long enough for the checks made while it drains. */
const DRAIN_TIME_S = 5;
/** Well above what a phase takes here: only the disconnect scenario is meant to reach its deadline. */
const DEADLINE_S = 30;
const DISCONNECT_DEADLINE_S = 5;

export function registerModifyDrainSuite(envoy: RealEnvoy, adsApi: AdsApi): void {
  describe(`modify drains of a real Envoy (${envoy.version}, ADS ${adsApi})`, { timeout: 120_000 }, () => {
    let fleet: Fleet | undefined;
    const watches: ListenerWatch[] = [];
    const clients: Client[] = [];
    const f = () => fleet!;

    before(async () => {
      fleet = await Fleet.start({
        envoyBin: envoy.bin,
        cluster: CLUSTER,
        nodeIds: [MODIFIED, SECOND],
        drainTimeSeconds: DRAIN_TIME_S,
        readyTimeoutMs: 45_000,
        adsApi,
      });
    });

    after(async () => {
      await Promise.allSettled(watches.map((w) => w.stop()));
      await Promise.allSettled(clients.map((c) => c.destroy()));
      await fleet?.close();
    });

    /**
     * Runs a scenario; on failure, prints the drains, the last config dump and the logs. The
     * test runner awaits the test registered here, not the caller.
     */
    const scenario = (name: string, body: (t: { diagnostic(m: string): void }) => Promise<void>): void =>
      void test(name, async (t) => {
        try {
          await body(t);
        } catch (err) {
          console.error(
            [
              `--- drains: ${JSON.stringify(f().daemon?.daemon.drains.list() ?? [], null, 1)}`,
              ...watches.map((w) => `--- config_dump: ${JSON.stringify([...w.latest.values()])}`),
              f().diagnostics(),
            ].join('\n'),
          );
          throw err;
        }
      });

    const startDrain = async (nodeId: string, body: Record<string, unknown>): Promise<{ id: string; drain: () => Drain }> => {
      const created = await f().api('POST', '/v1/drains', { selector: { ids: [nodeId] }, method: 'modify', ...body });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = (created.body as Drain).id;
      return { id, drain: () => f().daemon!.daemon.drains.get(id)! };
    };

    /** Starts a modify drain of one node, with Envoy's listeners watched from before the push. */
    const startWatchedDrain = async (node: FleetNode, body: Record<string, unknown>) => {
      let drainId: string | undefined;
      const w = new ListenerWatch(node.envoy, () => drainId);
      watches.push(w);
      const started = await startDrain(node.id, body);
      drainId = started.id;
      return { ...started, w };
    };

    /**
     * Waits until Envoy serves the drain's new ingress version and still drains the old one, and
     * drainplane has seen the ACK (its node is no longer `pushed`).
     */
    const untilEnvoyDrainsIngress = async (node: FleetNode, w: ListenerWatch, drain: () => Drain) => {
      await waitUntil(
        `${node.id} to drain its old ${INGRESS_LISTENER} under drain ${drain().id}`,
        async () => {
          const ingress = w.latest.get(INGRESS_LISTENER);
          return ListenerWatch.markOf(ingress) === drain().id && ingress?.draining_state !== undefined;
        },
        10_000,
      );
      await waitUntil(`drainplane to see ${node.id} ACK`, () => drain().phases[0]!.nodes[0]!.state !== 'pushed', 5_000);
      assert.ok(w.latest.get(INGRESS_LISTENER)?.draining_state, 'Envoy still drains the old ingress listener');
    };

    scenario('modify drain: ingress ends when Envoy stops draining the old listener, then egress; unknown counts are null', async (t) => {
      const node = f().node(MODIFIED);
      // A keep-alive connection on the old ingress version: idle, so it gets no drain signal and
      // Envoy closes it only when its drain time ends.
      const idle = new Client(`http://127.0.0.1:${node.ingressPort}`, { keepAliveTimeout: 60_000 });
      clients.push(idle);
      let idleClosedAt = 0;
      idle.on('disconnect', () => (idleClosedAt ||= Date.now()));
      const probe = await idle.request({ method: 'GET', path: '/app/idle' });
      await probe.body.text();
      assert.equal(probe.statusCode, 200);

      const { id, drain, w } = await startWatchedDrain(node, { scope: 'all', deadlineSeconds: DEADLINE_S });

      await untilEnvoyDrainsIngress(node, w, drain);
      const ingress = drain().phases[0]!;
      assert.equal(ingress.nodes[0]!.state, 'acked', 'ACKed, and not drained while Envoy drains the old ingress listener');
      assert.equal(ingress.state, 'running', 'the ingress phase runs while Envoy drains');
      assert.equal(drain().phases[1]!.state, 'pending', 'egress waits while Envoy drains ingress');
      assert.equal(ListenerWatch.markOf(w.latest.get(EGRESS_LISTENER)), undefined, 'egress is not modified yet');

      // The old and new versions share their gauges: drainplane does not know the old version's count.
      const summary = await f().api('GET', `/v1/drains/${id}/summary`);
      assert.equal(summary.status, 200);
      assert.equal(summary.body.phases[0].connections, null, 'phase connections unknown, not 0');
      assert.equal(summary.body.phases[0].nodes[0].connections, null, 'node connections unknown, not 0');
      assert.equal(summary.body.phases[0].nodes[0].listeners[0].connections, null);

      await waitUntil('the modify drain to end', () => TERMINAL.has(drain().state), DEADLINE_S * 1000);
      const ended = drain();
      assert.equal(ended.state, 'completed', JSON.stringify(ended.phases));
      const states = new Map((await node.envoy.dynamicListeners()).map((l) => [l.name, l]));
      for (const name of [INGRESS_LISTENER, EGRESS_LISTENER]) {
        assert.equal(ListenerWatch.markOf(states.get(name)), id, `${name} serves the modified version`);
        assert.ok(!ListenerWatch.busy(states.get(name)), `${name}: Envoy drains nothing when the drain says completed`);
      }
      await w.stop();

      // Envoy drained the old ingress version before drainplane ended the phase; egress came after.
      const ingressBusy = w.busy.get(INGRESS_LISTENER)!;
      const ingressDone = Date.parse(ended.phases[0]!.finishedAt!);
      const egressStarted = Date.parse(ended.phases[1]!.startedAt!);
      assert.ok(
        ingressDone > ingressBusy.sentAt,
        `ingress phase ended ${ingressBusy.sentAt - ingressDone} ms before Envoy was last seen draining it`,
      );
      assert.ok(idleClosedAt > 0 && idleClosedAt <= ingressDone, "Envoy closed the old version's idle connection before the ingress phase ended");
      assert.ok(egressStarted >= ingressDone, 'egress started after ingress');
      const egressModified = w.marked.get(EGRESS_LISTENER)!;
      assert.ok(egressModified.seenAt > ingressBusy.sentAt, 'Envoy got the egress change only after it drained ingress');
      const ackedAt = Date.parse(ended.phases[0]!.nodes[0]!.startedAt!);
      t.diagnostic(
        `ingress phase ${ingressDone - ackedAt} ms (Envoy --drain-time-s ${DRAIN_TIME_S}), whole drain ${Date.parse(ended.finishedAt!) - Date.parse(ended.createdAt)} ms`,
      );
    });

    scenario('modify drain cancelled mid-phase: the listener comes back and the drain stays cancelled', async () => {
      const node = f().node(SECOND);
      const { id, drain, w } = await startWatchedDrain(node, { scope: 'all', deadlineSeconds: DEADLINE_S });
      await untilEnvoyDrainsIngress(node, w, drain);
      assert.equal(drain().phases[0]!.nodes[0]!.state, 'acked', 'not drained while Envoy drains');
      assert.equal(drain().phases[0]!.state, 'running');

      const cancelled = await f().api('POST', `/v1/drains/${id}/cancel`);
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      assert.equal(drain().state, 'cancelled');
      await waitUntil(
        `${node.id} to serve its ingress listener without the drain's mark`,
        async () => w.latest.get(INGRESS_LISTENER) !== undefined && ListenerWatch.markOf(w.latest.get(INGRESS_LISTENER)) === undefined,
        10_000,
      );
      // Several ticks and a metrics flush later, nothing moved the cancelled drain on.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await w.stop();
      assert.equal(drain().state, 'cancelled');
      assert.equal(drain().phases[1]!.state, 'pending', 'egress never started');
      assert.equal(w.marked.get(EGRESS_LISTENER), undefined, 'egress was never modified');
    });

    scenario('a node that goes away while Envoy drains times out at its deadline', async () => {
      const node = f().node(SECOND);
      const { drain, w } = await startWatchedDrain(node, { scope: 'ingress', deadlineSeconds: DISCONNECT_DEADLINE_S });
      await untilEnvoyDrainsIngress(node, w, drain);
      await w.stop();
      assert.equal(drain().phases[0]!.nodes[0]!.state, 'acked');
      const exit = await node.envoy.stop();
      assert.ok(exit.code !== null || exit.signal !== null, 'envoy stopped');

      await waitUntil('the drain to end', () => TERMINAL.has(drain().state), (DISCONNECT_DEADLINE_S + 5) * 1000);
      const n = drain().phases[0]!.nodes[0]!;
      assert.equal(drain().state, 'timed_out');
      assert.equal(n.state, 'timed_out', JSON.stringify(n));
      assert.ok(Date.parse(n.finishedAt!) - Date.parse(n.startedAt!) >= DISCONNECT_DEADLINE_S * 1000, 'not before the deadline');
      assert.match(n.error ?? '', /^Envoy's listener drain did not end within 5s: /);
    });
  });
}
