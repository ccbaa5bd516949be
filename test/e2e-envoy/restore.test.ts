/**
 * What leaves a real Envoy comes back to it: a drain undone (within and after Envoy's drain
 * time), a listener removed by a reload and added back, and a new Envoy process of a node whose
 * last config was rejected. Over SotW and Delta ADS.
 *
 * Envoy (ENVOY-FACTS.md): a removed listener keeps its RDS subscription while it drains; once the
 * drain time ends the subscription goes with it. A listener added back warms until its
 * RouteConfiguration arrives, for at most the RDS initial fetch timeout (15 s), and then serves
 * 404 without it. So every check here waits well under 15 s for a 200: a listener that comes back
 * without its routes fails the check instead of passing late.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import YAML from 'yaml';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { waitUntil } from '../support/wait.js';
import { ADS_APIS, EGRESS_LISTENER, freeLoopbackPorts, INGRESS_LISTENER, type AdsApi } from './configs.js';
import { withRealEnvoy, type RealEnvoy } from './envoy-binary.js';
import { Fleet, sleep, type FleetNode } from './fleet.js';

const DRAIN_TIME_S = 2;
/** Past Envoy's drain time: the removed listener, and its RDS subscription, are gone. */
const PAST_DRAIN_TIME_MS = DRAIN_TIME_S * 1_000 + 2_500;
/** Well under the 15 s RDS initial fetch timeout after which a route-less listener serves 404. */
const SERVE_WITHIN_MS = 8_000;

withRealEnvoy('restore after drain, reload and NACK', (envoy) => {
  for (const adsApi of ADS_APIS) registerRestoreSuite(envoy, adsApi);
});

function registerRestoreSuite(envoy: RealEnvoy, adsApi: AdsApi): void {
  const nodeId = `e2e-restore-${adsApi === 'GRPC' ? 'sotw' : 'delta'}`;

  describe(`what leaves a real Envoy comes back (${envoy.version}, ADS ${adsApi})`, { timeout: 120_000 }, () => {
    let fleet: Fleet | undefined;

    before(async () => {
      fleet = await Fleet.start({
        envoyBin: envoy.bin,
        cluster: 'drainplane-e2e-restore',
        nodeIds: [nodeId],
        drainTimeSeconds: DRAIN_TIME_S,
        readyTimeoutMs: 45_000,
        adsApi,
      });
    });

    after(async () => {
      await fleet?.close();
    });

    const report = async (run: () => Promise<void>) => {
      try {
        await run();
      } catch (err) {
        console.error(fleet?.diagnostics());
        throw err;
      }
    };

    test('a remove drain cancelled within the drain time, and one cancelled after it: the listener comes back with its routes', () =>
      report(async () => {
        const f = fleet!;
        for (const cancelAfterMs of [300, PAST_DRAIN_TIME_MS]) {
          const node = f.node(nodeId);
          const created = await f.api('POST', '/v1/drains', { selector: { ids: [nodeId] }, scope: 'ingress', method: 'remove', deadlineSeconds: 30 });
          assert.equal(created.status, 201, JSON.stringify(created.body));
          const id = String(created.body.id);
          await waitForListeners(node, [EGRESS_LISTENER], 5_000);
          await sleep(cancelAfterMs);
          const cancelled = await f.api('POST', `/v1/drains/${id}/cancel`);
          assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
          await waitForStatus(node.ingressPort, '/app/restored', 200, SERVE_WITHIN_MS, `cancel ${cancelAfterMs} ms after the removal`);
          assert.deepEqual(await node.envoy.listenerNames(), [EGRESS_LISTENER, INGRESS_LISTENER].sort());
        }
      }));

    test('a listener removed by a config reload and added back after the drain time serves its routes', () =>
      report(async () => {
        const f = fleet!;
        const node = f.node(nodeId);
        const original = await f.configYaml();
        const reduced = YAML.parse(original) as { groups: { listeners: { name: string }[] }[] };
        for (const group of reduced.groups) group.listeners = group.listeners.filter((l) => l.name !== INGRESS_LISTENER);
        await f.daemon!.rewrite(YAML.stringify(reduced));
        await waitForListeners(node, [EGRESS_LISTENER], 5_000);
        await sleep(PAST_DRAIN_TIME_MS);
        await f.daemon!.rewrite(original);
        await waitForStatus(node.ingressPort, '/app/added-back', 200, SERVE_WITHIN_MS, 'the listener added back');
      }));

    test('a new Envoy process of a node whose config was rejected gets the config the node last accepted; the NACK stays visible', (t) =>
      report(async () => {
        const f = fleet!;
        const daemon = f.daemon!.daemon;
        const original = await f.configYaml();
        const accepted = daemon.cache.snapshot(nodeId)!.get(TypeUrl.Listener).version;

        // A listener Envoy refuses and no config check can foresee: its port is taken.
        const [taken] = await freeLoopbackPorts(1);
        const squatter = net.createServer().listen(taken, '127.0.0.1');
        t.after(() => squatter.close());
        const refused = YAML.parse(original) as { groups: { listeners: { name: string; address: { socket_address: { port_value: number } } }[] }[] };
        for (const group of refused.groups) {
          for (const l of group.listeners) if (l.name === INGRESS_LISTENER) l.address.socket_address.port_value = taken!;
        }
        assert.equal((await f.daemon!.rewrite(YAML.stringify(refused))).result, 'applied');
        await waitUntil('Envoy to NACK the listener it cannot bind', () => daemon.nodes.get(nodeId)?.types.lds?.lastNack !== undefined, 10_000);
        const nack = daemon.nodes.get(nodeId)!.types.lds!.lastNack!;
        t.diagnostic(`Envoy's NACK: ${nack.message.trim()}`);

        // The old Envoy keeps serving what it had; a new process of the same node starts empty.
        const restarted = await f.restartEnvoy(nodeId);
        await waitForStatus(restarted.ingressPort, '/app/after-restart', 200, SERVE_WITHIN_MS, 'the new Envoy process');
        assert.deepEqual(await restarted.envoy.listenerNames(), [EGRESS_LISTENER, INGRESS_LISTENER].sort());
        await waitUntil(
          'the new process to ACK the listeners its node last accepted',
          () => daemon.nodes.get(nodeId)?.types.lds?.acked?.version === accepted,
          5_000,
        );
        const status = await f.api('GET', `/v1/nodes/${nodeId}`);
        assert.equal(status.status, 200);
        assert.equal(status.body.types.lds.lastNack.message, nack.message, 'the rejection is still shown for the node');
        assert.equal(status.body.types.lds.parked?.serving, accepted, 'the node is shown running the version it last accepted');

        // A config Envoy accepts reaches the new process, and the rejection is history.
        await f.daemon!.rewrite(original);
        const fixed = daemon.cache.snapshot(nodeId)!.get(TypeUrl.Listener).version;
        await waitUntil('the fixed config to be ACKed', () => daemon.nodes.get(nodeId)?.types.lds?.acked?.version === fixed, 10_000);
        assert.equal(daemon.nodes.get(nodeId)!.types.lds!.parked, undefined, 'nothing parked once the node accepts its config');
        await waitForStatus(restarted.ingressPort, '/app/fixed', 200, SERVE_WITHIN_MS, 'after the fix');
      }));
  });
}

async function waitForListeners(node: FleetNode, names: string[], timeoutMs: number): Promise<void> {
  let last: string[] | string = [];
  await waitUntil(
    `${node.id} to have listeners ${JSON.stringify(names)}`,
    async () => {
      last = await node.envoy.listenerNames().catch((err: Error) => err.message);
      return JSON.stringify(last) === JSON.stringify([...names].sort());
    },
    timeoutMs,
    { intervalMs: 50, explain: () => `(listeners ${JSON.stringify(last)})` },
  );
}

/** Waits for `status` from GET `path` on a new connection each try; the last answer in the error. */
async function waitForStatus(port: number, path: string, status: number, timeoutMs: number, what: string): Promise<void> {
  let last = 'no answer';
  const answers = async (): Promise<boolean> => {
    const client = new Client(`http://127.0.0.1:${port}`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
    try {
      const res = await client.request({ method: 'GET', path });
      await res.body.text();
      last = `HTTP ${res.statusCode}`;
      return res.statusCode === status;
    } catch (err) {
      last = (err as Error).message;
      return false;
    } finally {
      await client.destroy().catch(() => {});
    }
  };
  await waitUntil(`${what}: ${status} from port ${port}`, answers, timeoutMs, { intervalMs: 100, explain: () => `(last: ${last})` });
}
