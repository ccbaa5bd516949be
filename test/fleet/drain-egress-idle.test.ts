/**
 * Drains whose egress phase starts once the application no longer calls out (`"egress":
 * {"after": "egress-idle"}`): after ingress is done, egress waits until the node's egress
 * listeners report no connection for the quiet window, and at most `waitSeconds`, after which
 * it starts anyway and says which listener held it. Gauges come over the metrics service.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Drain } from '../../src/fleet/drain/model.js';
import { waitUntil } from '../support/wait.js';
import { demoGroup } from '../support/fleet-configs.js';
import type { SimNode } from '../support/sim-node.js';
import { simDrainFixture } from '../support/sim-drain-fixture.js';

const INGRESS = '127.0.0.1_10000';
const EGRESS = '127.0.0.1_15001';
const CONFIG = `groups:${demoGroup({ name: 'full', cluster: 'full' })}`;

describe('drains with egress after egress-idle', { timeout: 60_000 }, () => {
  const fx = simDrainFixture(CONFIG);
  const { api, drain } = fx;
  const current = (id: string): Drain => fx.d.daemon.drains.get(id)!;
  const connect = (id: string): Promise<SimNode> => fx.connect(id, { cluster: 'full' });
  /** Ingress drained while egress still holds `egress` connections. */
  const ingressDrained = async (n: SimNode, id: string, egress: number): Promise<void> => {
    await n.waitForLds((r) => r.resources.length === 1, 'without ingress');
    await waitUntil('the ACK', () => current(id).phases[0]!.nodes[0]!.state === 'acked');
    n.reportConnections({ [INGRESS]: 0, [EGRESS]: egress });
    await waitUntil('ingress done', () => current(id).phases[0]!.state === 'done');
  };

  test('egress waits while the app holds a connection, and starts once it had none for the quiet window', async () => {
    const n = await connect('idle-1');
    const created = await drain({
      selector: { ids: ['idle-1'] },
      scope: 'all',
      egress: { after: 'egress-idle', quietSeconds: 0.3 },
      deadlineSeconds: 30,
    });
    assert.deepEqual(created.spec.egressStart, { after: 'egress-idle', quietSeconds: 0.3, waitSeconds: 30 }, 'the wait defaults to the deadline');
    await ingressDrained(n, created.id, 2);
    await new Promise((r) => setTimeout(r, 600));
    const waiting = current(created.id).phases[1]!;
    assert.equal(waiting.state, 'pending', 'egress kept while the app holds its connections');
    assert.equal(waiting.nodes[0]!.quietSince, null);
    assert.deepEqual(waiting.nodes[0]!.listeners, [{ name: 'egress_http', connections: 2 }], 'its connections are shown');
    assert.equal(n.lds.at(-1)!.resources.length, 1, 'egress not removed');

    n.reportConnections({ [INGRESS]: 0, [EGRESS]: 0 });
    await waitUntil('a quiet start', () => typeof current(created.id).phases[1]!.nodes[0]!.quietSince === 'string');
    assert.equal(current(created.id).phases[1]!.state, 'pending', 'one reading is not a quiet window');
    await new Promise((r) => setTimeout(r, 350));
    n.reportConnections({ [INGRESS]: 0, [EGRESS]: 0 });
    await waitUntil('the egress phase to start', () => current(created.id).phases[1]!.state !== 'pending');
    const release = current(created.id).phases[1]!.release;
    assert.equal(release?.by, 'idle');
    assert.match(release?.message ?? '', /no connection for 0\.3s/);
    await n.waitForLds((r) => r.resources.length === 0, 'without egress');
    const shown = (await api('GET', `/v1/drains/${created.id}`)).body as Drain;
    assert.equal(shown.phases[1]!.release?.by, 'idle', 'the API shows why egress started');
  });

  test('an app that never lets go holds egress until the wait runs out; the phase names the listener', async () => {
    const n = await connect('idle-2');
    const created = await drain({ selector: { ids: ['idle-2'] }, scope: 'all', egress: { after: 'egress-idle', waitSeconds: 0.8 } });
    await ingressDrained(n, created.id, 1);
    const done = Date.parse(current(created.id).phases[0]!.finishedAt!);
    await waitUntil('the egress phase to start', () => current(created.id).phases[1]!.state !== 'pending');
    const phase = current(created.id).phases[1]!;
    assert.ok(Date.parse(phase.startedAt!) - done >= 800, 'not before the wait ran out');
    assert.equal(phase.release?.by, 'wait');
    assert.match(phase.release?.message ?? '', /idle-2: egress_http held 1 connection\(s\)/);
    await n.waitForLds((r) => r.resources.length === 0, 'without egress');
  });

  test('egress-idle is refused where it has no egress phase, and its fields only with it', async () => {
    const refused = await api('POST', '/v1/drains', { selector: { ids: ['x'] }, scope: 'ingress', egress: { after: 'egress-idle' } });
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.body), /applies only to scope \\"all\\" or \\"egress\\"/);
    const misplaced = await api('POST', '/v1/drains', {
      selector: { ids: ['x'] },
      scope: 'all',
      egress: { after: 'delay', delaySeconds: 1, quietSeconds: 1 },
    });
    assert.equal(misplaced.status, 400);
    assert.match(JSON.stringify(misplaced.body), /egress.quietSeconds/);
  });
});
