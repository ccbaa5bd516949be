/**
 * The Envoy test double follows Envoy on /drain_listeners: listeners it stopped ignore later
 * LDS updates (an admin drain cannot be undone; an LDS drain can).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { ofType, startEnvoyDouble, writeDoubleBootstrap, type EnvoyDouble } from '../support/envoy-double/control.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { demoConfig } from '../support/fleet-configs.js';

let d: TestDaemon | undefined;
let envoy: EnvoyDouble | undefined;
let dir: string | undefined;
after(async () => {
  await envoy?.kill();
  await d?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('listeners stopped by /drain_listeners ignore later LDS updates, which are still ACKed', { timeout: 30_000 }, async () => {
  d = await startTestDaemon(demoConfig());
  const boot = await writeDoubleBootstrap({ nodeId: 'admin-drained', cluster: 'test-cluster', xdsAddress: d.xdsAddress, metricsSink: false });
  dir = boot.dir;
  envoy = await startEnvoyDouble(['-c', boot.file], { eventsFile: path.join(dir, 'events.jsonl') });
  await envoy.waitFor(ofType('listener_added', (e) => e.name === 'egress_http'), 10_000);

  const res = await fetch(`http://${envoy.adminAddress}/drain_listeners?inboundonly`, { method: 'POST' });
  assert.equal(res.status, 200);
  await d.rewrite(demoConfig({ listenerTag: 'after-admin-drain' }));
  const ignored = await envoy.waitFor(ofType('listener_update_ignored'), 10_000);
  assert.equal(ignored.name, 'ingress_http');
  // The egress listener was not stopped (inboundonly): its update applies.
  await envoy.waitFor(ofType('listener_modified', (e) => e.name === 'egress_http'), 10_000);
  const events = await envoy.events();
  assert.ok(!events.some((e) => e.type === 'listener_modified' && e.name === 'ingress_http'));
  assert.ok(events.some((e) => e.type === 'xds_ack' && e.resource_type === 'LDS' && e.version === ignored.version), 'still ACKed');
});
