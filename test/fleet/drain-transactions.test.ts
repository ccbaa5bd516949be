/**
 * Drain changes are transactions: worked out, stored, and only then put in place and pushed.
 * When the store refuses a change (a full disk, say), the drain in memory, the file on disk and
 * what every node is sent stay as they were, and the same change asked again goes through.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import pino from 'pino';
import type { NodeIdentity } from '../../src/cache/node.js';
import { SnapshotCache } from '../../src/cache/snapshot-cache.js';
import { DesiredState } from '../../src/fleet/desired-state/desired-state.js';
import { DrainManager } from '../../src/fleet/drain/manager.js';
import type { Drain } from '../../src/fleet/drain/model.js';
import type { DrainRequest } from '../../src/fleet/drain/spec.js';
import type { DrainStore } from '../../src/fleet/ports/drain-store.js';
import { NodeRegistry } from '../../src/fleet/registry.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { FileDrainStore } from '../../src/store/drain-store.js';
import { parsedConfig } from '../support/desired-state.js';
import { demoConfig } from '../support/fleet-configs.js';

/** The file store, with saves that fail before anything is written while `full` is set. */
class FullDiskStore implements DrainStore {
  full = false;
  constructor(readonly files: FileDrainStore) {}
  load(): Promise<Drain[]> {
    return this.files.load();
  }
  watch(): () => void {
    return () => {};
  }
  async save(drains: readonly Drain[]): Promise<void> {
    if (this.full) throw new Error('ENOSPC: no space left on device, write');
    await this.files.save(drains);
  }
}

const ALL = ['egress_http', 'ingress_http'];
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function setup() {
  dir = await mkdtemp(path.join(tmpdir(), 'drainplane-tx-'));
  const store = new FullDiskStore(new FileDrainStore(dir));
  const cache = new SnapshotCache();
  const desired = new DesiredState({ cache, config: parsedConfig(demoConfig()) });
  const nodes = new NodeRegistry();
  const drains = new DrainManager({ store, nodes, desired, connections: { latest: () => undefined }, logger: pino({ level: 'silent' }) });
  await drains.load();
  const node: NodeIdentity = { id: 'a', cluster: 'test-cluster', metadata: {}, locality: { region: '', zone: '', subZone: '' }, userAgentName: 'envoy', userAgentVersion: '1.40.0' };
  const stream = { streamId: 1, node, protocol: 'sotw' as const, aggregated: true, peer: 'test' };
  nodes.events.streamOpened!(stream);
  drains.nodeConnected(node);
  desired.events.streamOpened(stream);
  let sent: string[] = [];
  cache.watch(node.id, (s) => (sent = s.get(TypeUrl.Listener).sorted.map((r) => r.name)));
  return {
    store,
    drains,
    listeners: () => sent,
    onDisk: () => readFile(store.files.file, 'utf8'),
    /** The node ACKs the listener set it is meant to have now. */
    ack: () => nodes.events.acked!(stream, TypeUrl.Listener, desired.snapshot('a')!.get(TypeUrl.Listener).version, 'n'),
  };
}

async function created(drains: DrainManager, request: DrainRequest): Promise<Drain> {
  const result = await drains.create(request);
  assert.ok('drain' in result, JSON.stringify(result));
  return result.drain;
}

test('a cancel that cannot be stored changes nothing: the drain runs, the disk and the node are as before, and the retry restores the node', async () => {
  const t = await setup();
  const drain = await created(t.drains, { selector: { cluster: 'test-cluster' }, scope: 'ingress', method: 'remove' });
  assert.deepEqual(t.listeners(), ['egress_http']);
  const disk = await t.onDisk();
  t.store.full = true;
  await assert.rejects(t.drains.cancel(drain.id), /ENOSPC/);
  assert.equal(t.drains.get(drain.id)!.state, 'running', 'not cancelled in memory');
  assert.equal(await t.onDisk(), disk, 'the file is as it was');
  assert.deepEqual(t.listeners(), ['egress_http'], 'the node stays drained: nothing was pushed');
  t.store.full = false;
  const cancelled = await t.drains.cancel(drain.id);
  assert.equal(cancelled?.state, 'cancelled');
  assert.deepEqual(t.listeners(), ALL, 'the retry restores the listener');
  assert.match(await t.onDisk(), /"state":"cancelled"/);
});

test('an advance that cannot be stored does not start the egress phase later', async () => {
  const t = await setup();
  const drain = await created(t.drains, { selector: { cluster: 'test-cluster' }, scope: 'all', method: 'remove', measure: 'ack', egress: { after: 'advance' } });
  t.ack();
  await t.drains.tick();
  t.store.full = true;
  await assert.rejects(t.drains.advance(drain.id), /ENOSPC/);
  t.store.full = false;
  await t.drains.tick();
  assert.equal(t.drains.get(drain.id)!.phases[1]!.state, 'pending', 'egress waits: the advance was refused');
  assert.deepEqual(t.listeners(), ['egress_http']);
  const advanced = await t.drains.advance(drain.id);
  assert.ok(typeof advanced === 'object' && advanced.phases[1]!.state !== 'pending', 'the retry starts egress');
  assert.deepEqual(t.listeners(), []);
});

test('a step that cannot be stored is not taken: no node is pushed, and the next tick takes it', async () => {
  const t = await setup();
  const drain = await created(t.drains, { selector: { cluster: 'test-cluster' }, scope: 'all', method: 'remove', measure: 'ack' });
  assert.deepEqual(t.listeners(), ['egress_http']);
  t.ack();
  const disk = await t.onDisk();
  t.store.full = true;
  await assert.rejects(t.drains.tick(), /ENOSPC/);
  assert.equal(t.drains.get(drain.id)!.phase, 0, 'still in ingress in memory');
  assert.equal(t.drains.get(drain.id)!.phases[0]!.nodes[0]!.state, 'pushed', 'the ACK is not recorded either');
  assert.equal(await t.onDisk(), disk);
  assert.deepEqual(t.listeners(), ['egress_http'], 'egress is not removed');
  t.store.full = false;
  await t.drains.tick();
  assert.equal(t.drains.get(drain.id)!.phase, 1);
  assert.deepEqual(t.listeners(), []);
});
