/**
 * An assignment whose Kubernetes Service drainplane has not listed yet (here: the cluster cannot
 * be reached at all) is pending. An Envoy that reconnects holding it, after a drainplane restart
 * say, keeps its endpoints: Delta reports it neither changed nor removed (Envoy would drop every
 * host of a removed assignment), and the assignments that are known are served as usual.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openDeltaStream, TYPE, type DeltaStream } from '../support/ads-client.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { serviceGroup } from '../support/fleet-configs.js';

const CONFIG = `kubernetes: { kubeconfig: no-such-kubeconfig.yaml }\ngroups:${serviceGroup({ name: 'edge', match: '{ cluster: edge }', withStatic: true })}`;

let d: TestDaemon;
const streams: DeltaStream[] = [];
before(async () => {
  d = await startTestDaemon(CONFIG);
});
after(async () => {
  for (const s of streams) s.close();
  await d?.close();
});

test('a reconnecting Delta node keeps a pending assignment: not removed, while the known one is sent', async () => {
  const s = openDeltaStream(d.xdsAddress, { node: { id: 'edge-1', cluster: 'edge' } });
  streams.push(s);
  s.send({
    type_url: TYPE.EDS,
    resource_names_subscribe: ['backend', 'static'],
    initial_resource_versions: { backend: 'held-from-before', static: 'held-from-before' },
  });
  const res = await s.next(TYPE.EDS);
  assert.deepEqual(
    res.resources.map((r) => r.name),
    ['static'],
  );
  assert.deepEqual(res.removed_resources, [], 'the pending assignment is not removed');
  s.ack(res);
  await s.expectSilence(300);
});

test('a fresh Delta node asking for a pending assignment is not told it does not exist', async () => {
  const s = openDeltaStream(d.xdsAddress, { node: { id: 'edge-2', cluster: 'edge' } });
  streams.push(s);
  s.send({ type_url: TYPE.EDS, resource_names_subscribe: ['backend', 'static'] });
  const res = await s.next(TYPE.EDS);
  assert.deepEqual(
    res.resources.map((r) => r.name),
    ['static'],
  );
  assert.deepEqual(res.removed_resources, []);
});
