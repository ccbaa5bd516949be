/**
 * Endpoint drain requests through the API: what is wrong is refused with a 400 naming the field
 * and nothing is started; a good request starts an endpoint drain, and the OpenAPI document
 * describes the request and the per-endpoint progress.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDaemon } from '../support/daemon.js';
import { startDaemonWithNodes, type DaemonWithNodes } from '../support/daemon-with-nodes.js';
import { drainApi } from '../support/drain-api.js';

interface Refusal {
  errors: { field: string; message: string }[];
}

/** The demo config's app endpoint (test/support/fleet-configs.ts). */
const APP = '127.0.0.1:8080';

describe('endpoint drain requests', { timeout: 60_000 }, () => {
  let running: DaemonWithNodes;
  let d: TestDaemon;
  const { api, drain } = drainApi(() => d.apiUrl);

  /** POST /v1/drains must answer 400 and start nothing: the fields it names. */
  const refusedFields = async (body: unknown): Promise<string[]> => {
    const res = await api('POST', '/v1/drains', body);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.deepEqual((await api('GET', '/v1/drains')).body.drains, [], 'nothing was started');
    return (res.body as Refusal).errors.map((e) => e.field);
  };

  before(async () => {
    running = await startDaemonWithNodes(['ep-1'], { apiRateLimit: 0 });
    d = running.d;
  });
  after(() => running.close());

  test('an address that is no HOST:PORT is refused naming its index', async () => {
    assert.deepEqual(await refusedFields({ endpoints: { addresses: [APP, 'app-1', '10.0.0.1:0', '[::1:80'] } }), [
      'endpoints.addresses[1]',
      'endpoints.addresses[2]',
      'endpoints.addresses[3]',
    ]);
  });

  test('a target that names no endpoint, or only empty values, is refused naming the field', async () => {
    assert.deepEqual(await refusedFields({ endpoints: {} }), ['endpoints']);
    assert.deepEqual(await refusedFields({ endpoints: { addresses: [] } }), ['endpoints.addresses']);
    assert.deepEqual(await refusedFields({ endpoints: { cluster: '', locality: { zone: '' } } }), ['endpoints.cluster', 'endpoints.locality.zone']);
    assert.deepEqual(await refusedFields({ endpoints: { metadata: { version: '' } } }), ['endpoints.metadata.version']);
  });

  test('an endpoint no EDS of the running config holds is refused (a typo would otherwise drain nothing)', async () => {
    assert.deepEqual(await refusedFields({ endpoints: { addresses: ['127.0.0.1:9999'] } }), ['endpoints']);
    assert.deepEqual(await refusedFields({ endpoints: { cluster: 'no-such-cluster' } }), ['endpoints']);
  });

  test('fields of node drains are refused in an endpoint drain, and a node drain still needs selector and scope', async () => {
    assert.deepEqual(await refusedFields({ endpoints: { addresses: [APP] }, scope: 'ingress', batch: { size: 1 }, method: 'remove' }), [
      'scope',
      'batch',
      'method',
    ]);
    assert.deepEqual(await refusedFields({ endpoints: { addresses: [APP] }, measure: 'listener-drain' }), ['measure']);
    assert.deepEqual(await refusedFields({ endpoints: { addresses: [APP] }, selector: {} }), ['selector']);
    assert.deepEqual(await refusedFields({}), ['selector', 'scope']);
    assert.deepEqual(await refusedFields({ selector: { ids: ['ep-1'] }, scope: 'ingress', method: 'eds' }), ['method']);
  });

  test('a good request starts an endpoint drain on the node that holds the endpoint, and OpenAPI describes it', async () => {
    const created = await drain({ endpoints: { addresses: [APP] }, deadlineSeconds: 30 });
    assert.equal(created.spec.method, 'eds');
    assert.deepEqual(created.spec.scope, { endpoints: { addresses: [APP] } });
    // Both EDS clusters of the demo config hold the address: both are drained there.
    assert.deepEqual(
      created.phases.map((p) => [p.name, p.nodes.map((n) => [n.nodeId, n.endpoints?.map((e) => `${e.cluster} ${e.address} ${e.requests}`)])]),
      [['endpoints', [['ep-1', [`app ${APP} null`, `upstream ${APP} null`]]]]],
    );
    assert.equal((await api('POST', `/v1/drains/${created.id}/cancel`)).status, 200);

    const openapi = (await api('GET', '/openapi.json')).body;
    const body = openapi.paths['/v1/drains'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(Object.keys(body.properties.endpoints.properties).sort(), ['addresses', 'cluster', 'locality', 'metadata', 'remove']);
    assert.ok(!body.required?.includes('selector'), 'an endpoint drain needs no selector');
    const reply = JSON.stringify(openapi.paths['/v1/drains/{id}'].get.responses['200']);
    assert.match(reply, /active requests to the host in this Envoy/);
  });
});
