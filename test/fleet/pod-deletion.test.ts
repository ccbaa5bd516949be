/**
 * What a fleet pod's deletion does to the drains (kubernetes.fleetPods): the node's drain, as
 * `drainplane run` would start it, by the leader only, and not when a running drain holds the
 * node. The watch itself runs against a real API server in test/kube/fleet-pods.kube-test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { parseConfig } from '../../src/fleet/config.js';
import { drainDeletedPod } from '../../src/fleet/drain/pod-deletion.js';
import type { DrainRequest } from '../../src/fleet/drain/spec.js';
import type { Drain } from '../../src/fleet/drain/model.js';
import { demoGroup } from '../support/fleet-configs.js';

const logger = pino({ level: 'silent' });
const DELETED_AT = '2026-12-05T10:00:00.000Z';

function drains(running: Partial<Drain>[] = []) {
  const created: { request: DrainRequest; origin: unknown }[] = [];
  return {
    created,
    list: () => running as Drain[],
    create: (request: DrainRequest, options: { origin?: unknown } = {}) => {
      created.push({ request, origin: options.origin });
      return Promise.resolve({ drain: { id: 'drn_new' } as Drain });
    },
  };
}

test("a deleted pod's node gets run's drain, from the leader only", async () => {
  const d = drains();
  assert.equal(await drainDeletedPod({ drains: d, leading: () => false, logger }, 'edge-0', 45, DELETED_AT), 'not-leading');
  assert.deepEqual(d.created, []);
  await drainDeletedPod({ drains: d, leading: () => true, logger }, 'edge-0', 45, DELETED_AT);
  assert.deepEqual(d.created, [
    {
      request: { selector: { ids: ['edge-0'] }, scope: 'all', method: 'remove', egress: { after: 'egress-idle' }, deadlineSeconds: 45 },
      origin: 'pod-deleted',
    },
  ]);
});

test('a node a running drain holds is left to it; a finished one does not count', async () => {
  const holding = { id: 'drn_api', state: 'running', phases: [{ nodes: [{ nodeId: 'edge-0', state: 'pushed' }] }] } as unknown as Drain;
  const done = { id: 'drn_old', state: 'running', phases: [{ nodes: [{ nodeId: 'edge-1', state: 'drained' }] }] } as unknown as Drain;
  const d = drains([holding, done]);
  assert.equal(await drainDeletedPod({ drains: d, leading: () => true, logger }, 'edge-0', 45, DELETED_AT), 'held');
  await drainDeletedPod({ drains: d, leading: () => true, logger }, 'edge-1', 45, DELETED_AT);
  assert.deepEqual(
    d.created.map((c) => c.request.selector),
    [{ ids: ['edge-1'] }],
  );
});

test('kubernetes.fleetPods: each mistake named at its field', () => {
  const parsed = parseConfig(
    `kubernetes: { fleetPods: { namespace: Edge, selector: "", deadlineSeconds: 0, drain: x } }\ngroups:${demoGroup()}`,
    'fleet.yaml',
  );
  assert.ok(!parsed.ok);
  assert.deepEqual(
    parsed.errors.map((e) => e.path),
    ['kubernetes.fleetPods.drain', 'kubernetes.fleetPods.namespace', 'kubernetes.fleetPods.selector', 'kubernetes.fleetPods.deadlineSeconds'],
  );
  const ok = parseConfig(`kubernetes: { fleetPods: { namespace: edge, selector: app=edge } }\ngroups:${demoGroup()}`, 'fleet.yaml');
  assert.ok(ok.ok);
  assert.deepEqual(ok.config.kubernetes?.fleetPods, { namespace: 'edge', selector: 'app=edge', deadlineSeconds: 60 });
});

test('a drain this deletion already started counts, even finished: a pod still terminating is not drained twice', async () => {
  const node = [{ nodeId: 'edge-0', state: 'drained' }];
  const earlier = { id: 'drn_before', state: 'completed', origin: 'pod-deleted', createdAt: '2026-12-05T09:00:00.000Z', phases: [{ nodes: node }] };
  const now = { ...earlier, id: 'drn_now', createdAt: '2026-12-05T10:00:01.000Z' };
  const before = drains([earlier as unknown as Drain]);
  await drainDeletedPod({ drains: before, leading: () => true, logger }, 'edge-0', 45, DELETED_AT);
  assert.equal(before.created.length, 1, "an earlier deletion's drain does not count");
  const after = drains([now as unknown as Drain]);
  assert.equal(await drainDeletedPod({ drains: after, leading: () => true, logger }, 'edge-0', 45, DELETED_AT), 'held');
  assert.deepEqual(after.created, []);
});
