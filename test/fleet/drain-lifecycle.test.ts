/**
 * An operator's hand on a drain under way, through the API: pause and resume, skip a node that
 * holds its batch, retry a node that timed out (reopening the drain), and what does not apply.
 * Each is stored before it acts: the record read back says so.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Drain } from '../../src/fleet/drain/model.js';
import { runCli } from '../support/cli.js';
import { demoConfig } from '../support/fleet-configs.js';
import { simDrainFixture } from '../support/sim-drain-fixture.js';
import { waitUntil } from '../support/wait.js';

const INGRESS = '127.0.0.1_10000';

describe('pause, resume, skip and retry', { timeout: 60_000 }, () => {
  const fx = simDrainFixture(demoConfig());
  const { api, drain } = fx;
  const current = (id: string): Drain => fx.d.daemon.drains.get(id)!;
  const states = (d: Drain): Record<string, string> => Object.fromEntries(d.phases[0]!.nodes.map((n) => [n.nodeId, n.state]));

  test('a paused drain starts no batch until it is resumed; the nodes under way finish meanwhile', async () => {
    const [a, b] = [await fx.connect('pause-a'), await fx.connect('pause-b')];
    const created = await drain({ selector: { ids: ['pause-a', 'pause-b'] }, scope: 'ingress', method: 'remove', batch: { size: 1 } });
    const first = created.phases[0]!.nodes.find((n) => n.state === 'pushed')!.nodeId;
    const [started, next] = first === 'pause-a' ? [a, b] : [b, a];

    const paused = await api('POST', `/v1/drains/${created.id}/pause`);
    assert.equal(paused.status, 200);
    assert.ok(paused.body.paused?.at, 'the answer says since when');
    assert.ok((await api('GET', `/v1/drains/${created.id}`)).body.paused, 'and so does the stored record');
    assert.equal((await api('POST', `/v1/drains/${created.id}/pause`)).status, 200, 'pausing again changes nothing');

    await started.waitForLds((r) => r.resources.length === 1, 'without ingress');
    started.reportConnections({ [INGRESS]: 0 });
    await waitUntil('the started node to be drained', () => states(current(created.id))[started.id] === 'drained');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(states(current(created.id))[next.id], 'waiting', 'no batch started while paused');
    assert.equal(next.lds.at(-1)!.resources.length, 2, 'the next node still serves');

    const resumed = await api('POST', `/v1/drains/${created.id}/resume`);
    assert.equal(resumed.status, 200);
    assert.equal(resumed.body.paused, undefined);
    await next.waitForLds((r) => r.resources.length === 1, 'without ingress, once resumed');
    next.reportConnections({ [INGRESS]: 0 });
    await waitUntil('the drain to complete', () => current(created.id).state === 'completed');
  });

  test('skipping the node that holds its batch lets the next batch start; a waiting node skipped is never drained', async () => {
    const nodes = [await fx.connect('skip-a'), await fx.connect('skip-b'), await fx.connect('skip-c')];
    const created = await drain({ selector: { ids: nodes.map((n) => n.id) }, scope: 'ingress', method: 'remove', batch: { size: 1 } });
    const order = (d: Drain) => d.phases[0]!.nodes;
    const holding = order(created).find((n) => n.state === 'pushed')!.nodeId;
    const waiting = order(created)
      .filter((n) => n.state === 'waiting')
      .map((n) => n.nodeId);

    // The last one waiting is skipped before its batch: it keeps its listeners.
    const skippedEarly = await api('POST', `/v1/drains/${created.id}/nodes/${waiting[1]}/skip`);
    assert.equal(skippedEarly.status, 200);
    // The holding node never reports its connections: skipped, its batch ends.
    const skipped = await api('POST', `/v1/drains/${created.id}/nodes/${holding}/skip`);
    assert.equal(skipped.status, 200);
    const after = states(current(created.id));
    assert.equal(after[holding], 'skipped');
    assert.equal(after[waiting[1]!], 'skipped');
    const middle = nodes.find((n) => n.id === waiting[0])!;
    await middle.waitForLds((r) => r.resources.length === 1, 'its batch started once the holder was skipped');
    middle.reportConnections({ [INGRESS]: 0 });
    await waitUntil('the drain to end', () => current(created.id).state !== 'running');
    assert.equal(current(created.id).state, 'completed');
    const never = nodes.find((n) => n.id === waiting[1])!;
    assert.equal(never.lds.at(-1)!.resources.length, 2, 'the node skipped before its batch was never drained');
    const holder = nodes.find((n) => n.id === holding)!;
    assert.equal(holder.lds.at(-1)!.resources.length, 1, 'the node skipped under way stays drained');
    assert.equal((await api('POST', `/v1/drains/${created.id}/nodes/${holding}/skip`)).status, 409, 'an ended drain has nothing to skip');
  });

  test('retrying a node that timed out reopens the drain with a new deadline; it then completes', async () => {
    const n = await fx.connect('retry-a');
    const created = await drain({ selector: { ids: ['retry-a'] }, scope: 'ingress', method: 'remove', deadlineSeconds: 1 });
    await waitUntil('the drain to time out', () => current(created.id).state === 'timed_out', 10_000);
    assert.equal((await api('POST', `/v1/drains/${created.id}/nodes/nobody/retry`)).status, 409);

    const retried = await api('POST', `/v1/drains/${created.id}/nodes/retry-a/retry`);
    assert.equal(retried.status, 200);
    assert.equal(retried.body.state, 'running');
    assert.equal(retried.body.finishedAt, null);
    assert.equal(retried.body.phases[0].state, 'running');
    assert.ok(['pushed', 'acked'].includes(retried.body.phases[0].nodes[0].state), retried.body.phases[0].nodes[0].state);
    n.reportConnections({ [INGRESS]: 0 });
    await waitUntil('the retried node to drain', () => current(created.id).state === 'completed');
    assert.equal((await api('POST', `/v1/drains/${created.id}/nodes/retry-a/retry`)).status, 409, 'nothing left to retry');
  });

  test('the CLI pauses, lists, resumes and skips, and prints the reason of a refusal', async () => {
    const n = await fx.connect('cli-a');
    const created = await drain({ selector: { ids: [n.id] }, scope: 'ingress', method: 'remove' });
    const cli = (...args: string[]) => runCli(['drains', ...args, '--api', fx.d.apiUrl]);
    const paused = await cli('pause', created.id);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /paused: no batch or phase starts until it is resumed/);
    assert.match((await cli()).stdout, new RegExp(`${created.id}\\s+running \\(paused\\)`));
    assert.equal((await cli('resume', created.id)).code, 0);
    const skipped = await cli('skip', created.id, n.id);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stdout, new RegExp(`node ${n.id} skipped`));
    const refused = await cli('skip', created.id, n.id);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /only a running drain's nodes can be skipped|nothing left to wait for/);
    assert.equal((await cli('skip', created.id)).code, 2, 'a node id is needed');
  });

  test('what does not apply is refused with the reason; an unknown drain is 404', async () => {
    assert.equal((await api('POST', '/v1/drains/drn_none/pause')).status, 404);
    const n = await fx.connect('refuse-a');
    const created = await drain({ selector: { ids: [n.id] }, scope: 'ingress', method: 'remove' });
    await api('POST', `/v1/drains/${created.id}/cancel`);
    const refused = await api('POST', `/v1/drains/${created.id}/pause`);
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /is cancelled: only a running drain can be paused/);
    const retry = await api('POST', `/v1/drains/${created.id}/nodes/${n.id}/retry`);
    assert.equal(retry.status, 409);
    assert.match(retry.body.message, /was cancelled/);
  });
});
