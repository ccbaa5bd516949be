/**
 * Drain requests as an attacker would write them: a selector whose empty strings would widen it
 * to the whole fleet, and numbers (1e300 seconds) past what the drain machinery can hold. Both
 * are refused with a 400 naming the field; the largest values allowed work end to end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_DRAIN_COUNT, MAX_DRAIN_SECONDS } from '../../src/fleet/drain/request-limits.js';
import type { TestDaemon } from '../support/daemon.js';
import { startDaemonWithNodes, type DaemonWithNodes } from '../support/daemon-with-nodes.js';
import { drainApi } from '../support/drain-api.js';
import { openEventStream } from '../support/event-stream.js';
import { waitUntil } from '../support/wait.js';

interface Refusal {
  error: string;
  errors: { field: string; message: string }[];
}

describe('drain requests past the rules', { timeout: 60_000 }, () => {
  let running: DaemonWithNodes;
  let d: TestDaemon;
  const { api, drain } = drainApi(() => d.apiUrl);

  /** POST /v1/drains (or its preview), which must answer 400: the refusal. */
  const refused = async (body: unknown, path = '/v1/drains'): Promise<Refusal> => {
    const res = await api('POST', path, body);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    return res.body as Refusal;
  };
  const fields = (r: Refusal) => r.errors.map((e) => e.field);

  before(async () => {
    running = await startDaemonWithNodes(['input-1', 'input-2', 'input-3'], { apiRateLimit: 0 });
    d = running.d;
  });
  after(() => running.close());

  test('a selector with an empty locality field (which every node without a region matches) is refused naming the field', async () => {
    const before = d.daemon.drains.list().length;
    for (const path of ['/v1/drains', '/v1/drains/preview']) {
      const r = await refused({ selector: { locality: { region: '' } }, scope: 'ingress', method: 'modify' }, path);
      assert.deepEqual(fields(r), ['selector.locality.region']);
    }
    assert.equal(d.daemon.drains.list().length, before, 'no drain was made');
  });

  test('empty strings anywhere in a selector, and a locality with no field, are refused naming each field', async () => {
    const fieldsFor = async (selector: unknown) => fields(await refused({ selector, scope: 'ingress' }));
    assert.deepEqual(await fieldsFor({ locality: {} }), ['selector.locality']);
    assert.deepEqual(await fieldsFor({ cluster: 'test-cluster', locality: { zone: '', subZone: '' } }), [
      'selector.locality.zone',
      'selector.locality.subZone',
    ]);
    assert.deepEqual(await fieldsFor({ ids: ['input-1', ''] }), ['selector.ids[1]']);
    assert.deepEqual(await fieldsFor({ cluster: '' }), ['selector.cluster']);
    assert.deepEqual(await fieldsFor({ metadata: { tier: '' } }), ['selector.metadata.tier']);
    const emptyKey = await refused({ selector: { metadata: { '': 'x' } }, scope: 'ingress' });
    assert.deepEqual(emptyKey.errors, [{ field: 'selector.metadata', message: 'key "" must NOT have fewer than 1 characters' }]);
  });

  test('a duration past 7 days or a count past a million is refused naming the field and the bound', async () => {
    const r = await refused({
      selector: { ids: ['input-1'] },
      scope: 'all',
      deadlineSeconds: 1e300,
      threshold: MAX_DRAIN_COUNT + 1,
      batch: { size: 1e300 },
      egress: { after: 'delay', delaySeconds: 1e300, deadlineSeconds: MAX_DRAIN_SECONDS + 1 },
    });
    assert.deepEqual(r.errors.map((e) => `${e.field}: ${e.message}`).sort(), [
      'batch.size: must be <= 1000000',
      'deadlineSeconds: must be <= 604800',
      'egress.deadlineSeconds: must be <= 604800',
      'egress.delaySeconds: must be <= 604800',
      'threshold: must be <= 1000000',
    ]);
    const idle = await refused({
      selector: { ids: ['input-1'] },
      scope: 'egress',
      egress: { after: 'egress-idle', quietSeconds: 1e300, waitSeconds: 1e300 },
    });
    assert.deepEqual(fields(idle).sort(), ['egress.quietSeconds', 'egress.waitSeconds']);
  });

  test('drains with the largest values allowed: their summaries answer 200 and the fleet event stream goes on', async () => {
    const max = MAX_DRAIN_SECONDS;
    const stream = await openEventStream(`${d.apiUrl}/v1/fleet/events`);
    try {
      const delayed = await drain({
        selector: { ids: ['input-1'] },
        scope: 'all',
        method: 'modify',
        deadlineSeconds: max,
        threshold: MAX_DRAIN_COUNT,
        batch: { size: MAX_DRAIN_COUNT },
        egress: { after: 'delay', delaySeconds: max, deadlineSeconds: max },
      });
      const idle = await drain({
        selector: { ids: ['input-2'] },
        scope: 'all',
        deadlineSeconds: max,
        egress: { after: 'egress-idle', quietSeconds: max, waitSeconds: max },
      });
      for (const id of [delayed.id, idle.id]) {
        await waitUntil(`${id} to have started a node`, () => d.daemon.drains.get(id)!.phases[0]!.nodes.some((n) => n.startedAt !== null));
        const summary = await api('GET', `/v1/drains/${id}/summary`);
        assert.equal(summary.status, 200, JSON.stringify(summary.body));
        const started = summary.body.phases[0].nodes[0];
        assert.equal(Date.parse(started.deadlineAt) - Date.parse(started.startedAt), max * 1000);
      }
      const cancelled = await api('POST', `/v1/drains/${delayed.id}/cancel`);
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      await waitUntil('the stream to carry the cancelled drain', () =>
        stream.events.some((e) => e.event === 'drain' && e.data.id === delayed.id && e.data.state === 'cancelled'),
      );
      assert.ok(
        stream.events.some((e) => e.event === 'drain' && e.data.id === idle.id),
        'the other drain was streamed too',
      );
    } finally {
      await stream.close();
    }
  });
});
