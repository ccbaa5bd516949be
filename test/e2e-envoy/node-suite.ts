/**
 * What drainplane relies on in one Envoy node, seen on the real one (two nodes of one fleet, one
 * start per ADS flavour): the initial sync and LIVE; the listeners' roles; the admin API's
 * mutations and drains, version by version; admin-stopped listeners against LDS; signals.
 *
 * `e2e-health` takes the health-check and graceful drains and, last, the signals; `e2e-stopped`
 * has its ingress listener stopped by a non-graceful /drain_listeners. Tests run in order and
 * build on each other's state.
 *
 * Registered by node.test.ts, once per ADS flavour, when an Envoy binary is found.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'undici';
import { SKIP_EXIT_ALONE_SINCE } from '../../src/admin/drain-query.js';
import { EnvoyAdmin, EnvoyVersionError } from '../../src/admin/envoy-admin.js';
import { releaseFromVersionString } from '../../src/admin/server-info.js';
import { atLeast } from '../../src/cache/envoy-version.js';
import type { Drain } from '../../src/fleet/drain/model.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { waitUntil } from '../support/wait.js';
import { EGRESS_LISTENER, INGRESS_LISTENER, TAG_METADATA, taggedListeners, type AdsApi } from './configs.js';
import type { RealEnvoy } from './envoy-binary.js';
import type { DynamicListener } from './envoy-process.js';
import { Fleet, sleep, type FleetNode } from './fleet.js';
import { get, getOnce, keepAlive } from './http-get.js';

const CLUSTER = 'drainplane-e2e-node';
const HEALTH = 'e2e-health';
const STOPPED = 'e2e-stopped';
/** Long against every wait here: no drain of this suite ends by its drain time. */
const DRAIN_TIME_S = 20;
/** Where non-graceful /drain_listeners starts telling open connections (changelog 1.40). */
const NON_GRACEFUL_NOTIFIES_SINCE = '1.40.0';
const TYPES = [
  ['cds', TypeUrl.Cluster],
  ['eds', TypeUrl.ClusterLoadAssignment],
  ['lds', TypeUrl.Listener],
  ['rds', TypeUrl.RouteConfiguration],
] as const;

export function registerNodeSuite(envoy: RealEnvoy, adsApi: AdsApi): void {
  const release = releaseFromVersionString(envoy.version) ?? envoy.version;

  describe(`one real Envoy node and drainplane (${release}, ADS ${adsApi})`, { timeout: 120_000 }, () => {
    let f: Fleet;
    const clients: Client[] = [];
    const admins: EnvoyAdmin[] = [];
    const adminOf = (node: FleetNode): EnvoyAdmin => {
      const admin = new EnvoyAdmin({ address: `127.0.0.1:${node.adminPort}` });
      admins.push(admin);
      return admin;
    };
    const connection = (port: number): Client => {
      const client = keepAlive(port);
      clients.push(client);
      return client;
    };
    const refused = async (port: number): Promise<boolean> =>
      getOnce(port, '/app/new').then(
        () => false,
        () => true,
      );
    const drain = (id: string): Drain => f.daemon!.daemon.drains.get(id)!;

    before(async () => {
      f = await Fleet.start({
        envoyBin: envoy.bin,
        cluster: CLUSTER,
        nodeIds: [HEALTH, STOPPED],
        drainTimeSeconds: DRAIN_TIME_S,
        readyTimeoutMs: 45_000,
        adsApi,
      });
    });
    after(async () => {
      await Promise.allSettled([...clients.map((c) => c.destroy()), ...admins.map((a) => a.close())]);
      await f?.close();
    });

    test('it syncs CDS, EDS, LDS and RDS, ACKing each once in that order, then is LIVE with its drain flags', async () => {
      const d = f.daemon!.daemon;
      for (const node of f.nodes) {
        const wanted = d.cache.snapshot(node.id)!;
        await waitUntil(`${node.id} to ACK every type`, () =>
          TYPES.every(([type, url]) => d.nodes.get(node.id)?.types[type]?.acked?.version === wanted.get(url).version),
        );
        assert.deepEqual(
          f.logs.entries('ack', { node: node.id }).map((e) => e['type']),
          TYPES.map(([type]) => type),
        );
        assert.deepEqual(f.logs.entries('nack', { node: node.id }), []);
        assert.deepEqual(await node.envoy.admin('GET', '/ready'), { status: 200, body: 'LIVE\n' });
        const info = await node.envoy.serverInfo();
        assert.deepEqual(
          [info['state'], info['command_line_options']?.['drain_time'], info['command_line_options']?.['drain_strategy'], info['node']?.['id']],
          ['LIVE', `${DRAIN_TIME_S}s`, 'Immediate', node.id],
        );
      }
    });

    test('it holds both listeners with their traffic direction and drain type', async () => {
      for (const node of f.nodes) {
        const roles = (await node.envoy.dynamicListeners()).map((l) => {
          const listener = l.active_state?.listener ?? {};
          return [l.name, listener['traffic_direction'], listener['drain_type'] ?? 'DEFAULT'];
        });
        assert.deepEqual(roles, [
          [EGRESS_LISTENER, 'OUTBOUND', 'MODIFY_ONLY'],
          [INGRESS_LISTENER, 'INBOUND', 'DEFAULT'],
        ]);
      }
    });

    test('admin mutations are POST only; a healthcheck-fail drain turns it DRAINING and signals ingress, not the MODIFY_ONLY egress; cancel makes it LIVE', async () => {
      const n = f.node(HEALTH);
      assert.deepEqual(await n.envoy.admin('GET', '/healthcheck/fail'), { status: 405, body: 'Method GET not allowed, POST required.' });
      assert.deepEqual(await n.envoy.admin('GET', '/drain_listeners'), { status: 405, body: 'Method GET not allowed, POST required.' });
      assert.deepEqual(await n.envoy.admin('GET', '/ready'), { status: 200, body: 'LIVE\n' });

      const created = await f.api('POST', '/v1/drains', { selector: { ids: [HEALTH] }, scope: 'ingress', method: 'healthcheck-fail' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = (created.body as Drain).id;
      await waitUntil('/ready to say DRAINING', async () => (await n.envoy.ready()).state === 'DRAINING', 10_000);
      assert.deepEqual(await n.envoy.admin('GET', '/ready'), { status: 503, body: 'DRAINING\n' });
      assert.deepEqual(await getOnce(n.ingressPort, '/app/hc'), { status: 200, connection: 'close' });
      assert.deepEqual(await getOnce(n.egressPort, '/egress/hc'), { status: 200, connection: '' });
      await waitUntil('the drain to complete', () => drain(id).state === 'completed', 15_000);

      const cancelled = await f.api('POST', `/v1/drains/${id}/cancel`);
      assert.equal((cancelled.body as Drain).state, 'cancelled');
      await waitUntil('/ready to say LIVE again', async () => (await n.envoy.ready()).state === 'LIVE', 10_000);
      assert.deepEqual(await getOnce(n.ingressPort, '/app/hc-ok'), { status: 200, connection: '' });
    });

    test('a drain-listeners drain tells ingress connections while new ones are still taken, leaves egress alone, and can be repeated', async () => {
      const n = f.node(HEALTH);
      const created = await f.api('POST', '/v1/drains', { selector: { ids: [HEALTH] }, scope: 'ingress', method: 'drain-listeners', confirm: true });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = (created.body as Drain).id;
      await waitUntil(
        'ingress responses to carry Connection: close',
        async () => (await getOnce(n.ingressPort, '/app/dl')).connection === 'close',
        10_000,
      );
      assert.deepEqual(await getOnce(n.egressPort, '/egress/dl'), { status: 200, connection: '' });
      await waitUntil('the drain to complete', () => drain(id).state === 'completed', 15_000);
      // A leader that took over repeats the call (src/fleet/drain/admin-steps.ts): Envoy answers 200.
      await adminOf(n).drainListeners({ graceful: true, inboundOnly: true });
      assert.deepEqual(await getOnce(n.ingressPort, '/app/dl-again'), { status: 200, connection: 'close' });
      assert.deepEqual(await n.envoy.admin('GET', '/ready'), { status: 200, body: 'LIVE\n' }, 'an admin drain leaves /ready alone');
    });

    test(`listeners stopped by /drain_listeners ignore later LDS updates, which are still ACKed; open connections are told only from ${NON_GRACEFUL_NOTIFIES_SINCE}`, async () => {
      const n = f.node(STOPPED);
      const open = connection(n.ingressPort);
      assert.deepEqual(await get(open, '/app/open-1'), { status: 200, connection: '' });
      const before = byName(await n.envoy.dynamicListeners());

      await adminOf(n).drainListeners({ graceful: false, inboundOnly: true });
      await waitUntil('new ingress connections to be refused', () => refused(n.ingressPort), 5_000);
      const told = atLeast(release, NON_GRACEFUL_NOTIFIES_SINCE);
      assert.deepEqual(
        await get(open, '/app/open-2'),
        { status: 200, connection: told ? 'close' : '' },
        `Envoy ${release}: the open connection is ${told ? '' : 'not '}told`,
      );
      assert.deepEqual(await getOnce(n.egressPort, '/egress/stopped'), { status: 200, connection: '' });
      assert.deepEqual(await n.envoy.admin('GET', '/ready'), { status: 200, body: 'LIVE\n' });

      const d = f.daemon!;
      const reload = await d.rewrite(taggedListeners(await f.configYaml(), `e2e-${STOPPED}`, 'after-admin-drain'));
      assert.equal(reload.result, 'applied', JSON.stringify(reload));
      const wantedLds = d.daemon.cache.snapshot(STOPPED)!.get(TypeUrl.Listener).version;
      await waitUntil('the LDS update to be ACKed', () => d.daemon.nodes.get(STOPPED)?.types.lds?.acked?.version === wantedLds, 10_000);
      assert.deepEqual(f.logs.entries('nack', { node: STOPPED }), []);

      const afterUpdate = byName(await n.envoy.dynamicListeners());
      const tagOf = (l: DynamicListener | undefined) => l?.active_state?.listener['metadata']?.['filter_metadata']?.[TAG_METADATA]?.['tag'];
      assert.equal(tagOf(afterUpdate[EGRESS_LISTENER]), 'after-admin-drain', 'the egress listener (not stopped: inboundonly) is updated');
      assert.notEqual(afterUpdate[EGRESS_LISTENER]?.active_state?.version_info, before[EGRESS_LISTENER]?.active_state?.version_info);
      assert.equal(tagOf(afterUpdate[INGRESS_LISTENER]), undefined, 'the stopped ingress listener is not');
      assert.equal(afterUpdate[INGRESS_LISTENER]?.active_state?.version_info, before[INGRESS_LISTENER]?.active_state?.version_info);
      assert.ok(await refused(n.ingressPort), 'and it stays stopped');
    });

    test(`skip_exit without graceful: 400 before ${SKIP_EXIT_ALONE_SINCE}, taken from it on; drainplane's admin client refuses it where Envoy would`, async () => {
      const n = f.node(STOPPED);
      const takesIt = atLeast(release, SKIP_EXIT_ALONE_SINCE);
      assert.deepEqual(
        await n.envoy.admin('POST', '/drain_listeners?inboundonly&skip_exit'),
        takesIt ? { status: 200, body: 'OK\n' } : { status: 400, body: 'skip_exit requires graceful\n' },
        `Envoy ${release}`,
      );
      const call = adminOf(n).drainListeners({ graceful: false, inboundOnly: true, skipExit: true });
      if (takesIt) await call;
      else await assert.rejects(call, EnvoyVersionError);
    });

    test('SIGHUP is ignored; SIGTERM ends it at once with code 0, open connections and drain time notwithstanding', async () => {
      const n = f.node(HEALTH);
      const open = connection(n.egressPort);
      assert.equal((await get(open, '/egress/signals')).status, 200);
      n.envoy.signal('SIGHUP');
      await sleep(500);
      assert.equal(n.envoy.exit, undefined, 'still running after SIGHUP');
      assert.deepEqual(await n.envoy.admin('GET', '/ready'), { status: 200, body: 'LIVE\n' });

      const sentAt = Date.now();
      n.envoy.signal('SIGTERM');
      assert.deepEqual(await n.envoy.exited, { code: 0, signal: null });
      const tookMs = Date.now() - sentAt;
      assert.ok(tookMs < 5_000, `exited ${tookMs} ms after SIGTERM, with a ${DRAIN_TIME_S} s drain time`);
      await assert.rejects(get(open, '/egress/after-sigterm'), 'the open connection is gone');
      await waitUntil('drainplane to see the node go', () => f.logs.has('node_disconnected', { node: HEALTH }), 5_000);
    });
  });
}

function byName(listeners: readonly DynamicListener[]): Record<string, DynamicListener> {
  return Object.fromEntries(listeners.map((l) => [l.name, l]));
}
