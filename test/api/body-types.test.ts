/**
 * JSON request bodies: an empty one counts as no body, so curl users need not send `{}`, and
 * fastify's guards against bad JSON and prototype poisoning stay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoConfig } from '../support/fleet-configs.js';
import { SimNode } from '../support/sim-node.js';

describe('changes: their content type, and JSON bodies', { timeout: 60_000 }, () => {
  let d: TestDaemon;
  let node: SimNode;
  const { drain } = drainApi(() => d.apiUrl);

  /** A raw request: this content type (none when undefined) and this body. */
  const send = async (method: string, path: string, type: string | undefined, body?: string) => {
    const res = await fetch(`${d.apiUrl}${path}`, { method, ...(type !== undefined && { headers: { 'content-type': type } }), ...(body !== undefined && { body }) });
    return { status: res.status, body: (await res.json()) as { error: string; message: string } };
  };
  const running = () => drain({ selector: { ids: ['typed-1'] }, scope: 'ingress', method: 'modify' });

  before(async () => {
    d = await startTestDaemon(demoConfig(), { apiRateLimit: 0 });
    node = SimNode.connect(d.xdsAddress, 'typed-1');
    await node.waitForLds((r) => r.resources.length === 2, 'with both listeners');
  });
  after(async () => {
    node.close();
    await d.close();
  });

  test('an empty JSON body is no body: cancel and advance work as curl sends them', async () => {
    const { id } = await running();
    const advance = await send('POST', `/v1/drains/${id}/advance`, 'application/json', '');
    assert.equal(advance.status, 409, JSON.stringify(advance.body));
    const cancel = await send('POST', `/v1/drains/${id}/cancel`, 'application/json; charset=utf-8');
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal(d.daemon.drains.get(id)!.state, 'cancelled');
    const empty = await send('POST', '/v1/drains', 'application/json', '');
    assert.equal(empty.status, 400);
    assert.match(empty.body.message, /\(body\): must be object/);
  });

  test('JSON bodies keep their guards: bad JSON and prototype poisoning are refused', async () => {
    assert.equal((await send('POST', '/v1/drains', 'application/json', '{"selector":')).status, 400);
    assert.equal((await send('POST', '/v1/drains', 'application/json', ' ')).status, 400);
    const proto = await send('POST', '/v1/drains', 'application/json', '{"selector":{"ids":["typed-1"]},"scope":"ingress","__proto__":{"x":1}}');
    assert.equal(proto.status, 400);
    const ctor = await send('POST', '/v1/drains', 'application/json', '{"selector":{"ids":["typed-1"]},"scope":"ingress","constructor":{"prototype":{"x":1}}}');
    assert.equal(ctor.status, 400);
  });
});
