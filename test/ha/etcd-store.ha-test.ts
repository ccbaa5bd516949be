/**
 * The etcd backend on its own, two replicas' stores side by side on one etcd: no lost update
 * between them, writes of a replica that lost its leadership refused, config versions never
 * stored twice, a dead replica's node records gone with its lease.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import pino from 'pino';
import type { Drain } from '../../src/fleet/drain/model.js';
import type { SharedNodeRecord } from '../../src/fleet/replication/shared-node.js';
import { EtcdKeys } from '../../src/store/etcd/client.js';
import { EtcdConfigStore } from '../../src/store/etcd/config.js';
import { EtcdDrainStore } from '../../src/store/etcd/drains.js';
import { EtcdNodeStatuses } from '../../src/store/etcd/node-statuses.js';
import { NotLeaderError, StoreConflictError, StoreUnavailableError } from '../../src/fleet/ports/store-errors.js';
import { etcdInstalled, NO_ETCD, suiteEtcd } from '../support/etcd.js';
import { drainRecord } from '../support/drain-record.js';
import { drainManagerOn } from '../support/manager-fixture.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitUntil } from '../support/wait.js';

const silent = pino({ level: 'silent' });
const run = promisify(execFile);

/** A drain as etcd holds it (gzipped JSON). */
async function storedDrain(c: Etcd3, key: string): Promise<Drain> {
  const value = await c.get(key).buffer();
  assert.ok(value, `${key} is stored`);
  return (JSON.parse(gunzipSync(value).toString()) as { drain: Drain }).drain;
}
const moduleUrl = (relative: string): string => new URL(relative, import.meta.url).href;

/** A drain whose ingress phase has pushed to `count` nodes, named by `nodeId`. */
function runningDrain(id: string, count: number, nodeId: (i: number) => string): Drain {
  const at = '2026-11-23T00:00:00.000Z';
  const nodes = Array.from({ length: count }, (_, i) => ({
    nodeId: nodeId(i),
    state: 'pushed' as const,
    batch: 1,
    startedAt: at,
    finishedAt: null,
    listeners: [{ name: 'ingress_http', connections: null }],
    error: null,
  }));
  return drainRecord(id, { phases: [{ name: 'ingress', state: 'running', startedAt: at, finishedAt: null, nodes }] });
}

describe('the etcd store', { skip: etcdInstalled() ? false : NO_ETCD, timeout: 120_000 }, () => {
  const suite = suiteEtcd();
  const client = (endpoint?: string): Promise<Etcd3> => suite.client(endpoint);
  /** Two replicas' drain stores on one key prefix, and what the second is told of. */
  const twoReplicas = async (prefix: string) => {
    const keys = new EtcdKeys(prefix);
    const a = new EtcdDrainStore(await client(), keys, () => undefined, silent);
    const b = new EtcdDrainStore(await client(), keys, () => undefined, silent);
    await Promise.all([a.load(), b.load()]);
    const seenByB = new Map<string, Drain | undefined>();
    b.watch((id, drain) => seenByB.set(id, drain));
    return { keys, a, b, seenByB };
  };

  test('two replicas change one drain from the same version: one is stored, the other gets a conflict and the winner', async () => {
    const { keys, a, b, seenByB } = await twoReplicas('/unit-drains/');

    const mine = drainRecord('drn_1');
    await a.save([mine]);
    await waitUntil('b to see the new drain', () => seenByB.has('drn_1'), 30_000);
    const theirs = seenByB.get('drn_1')!;
    mine.warnings.push('from a');
    theirs.warnings.push('from b');
    await a.save([mine]);
    await assert.rejects(b.save([theirs]), StoreConflictError);
    assert.deepEqual(seenByB.get('drn_1')!.warnings, ['from a'], "b was handed a's version");

    const retried = seenByB.get('drn_1')!;
    retried.warnings.push('from b');
    await b.save([retried]);
    const stored = await storedDrain(await client(), keys.drain('drn_1'));
    assert.deepEqual(stored.warnings, ['from a', 'from b'], 'nothing was lost');
    await Promise.all([a.close(), b.close()]);
  });

  test("a save about one drain is not failed by another drain's stale copy: only the drain it is about is written", async () => {
    const { keys, a, b, seenByB } = await twoReplicas('/unit-focus/');
    const first = drainRecord('drn_f1');
    const second = drainRecord('drn_f2');
    await a.save([first, second]);
    await waitUntil('b to see both', () => seenByB.has('drn_f1') && seenByB.has('drn_f2'), 30_000);
    const theirs = seenByB.get('drn_f2')!;
    theirs.warnings.push('from b');
    await b.save([theirs]);
    // a's copy of drn_f2 is now stale and changed here too; the save is about drn_f1 only.
    second.warnings.push('stale, from a');
    first.warnings.push('from a');
    await a.save([first, second], { changed: [first] });
    const reader = await client();
    const stored = async (id: string) => (await storedDrain(reader, keys.drain(id))).warnings;
    assert.deepEqual(await stored('drn_f1'), ['from a']);
    assert.deepEqual(await stored('drn_f2'), ['from b'], 'the stale copy was not written');
    await assert.rejects(a.save([first, second]), StoreConflictError, 'saved as a whole, the stale copy conflicts');
    await Promise.all([a.close(), b.close()]);
  });

  test("a drain of 10,000 nodes is stored (under etcd's 1.5 MiB request limit) and read by another replica", async () => {
    const { a, b, seenByB } = await twoReplicas('/unit-large/');
    const large = runningDrain('drn_large', 10_000, (i) => `edge-pool-a/node-${i}`);
    assert.ok(JSON.stringify(large).length > 1.5 * 1024 * 1024, 'larger than etcd takes as plain JSON');
    await a.save([large]);
    await waitUntil('b to see the drain', () => seenByB.has('drn_large'), 30_000);
    assert.deepEqual(seenByB.get('drn_large'), large);
    await Promise.all([a.close(), b.close()]);
  });

  test('kept drains that together pass the 4 MiB a gRPC response may carry are all loaded by a replica that starts next to them', async () => {
    const keys = new EtcdKeys('/unit-many-large/');
    const writer = new EtcdDrainStore(await client(), keys, () => undefined, silent);
    await writer.load();
    // Node ids that do not compress: gzip keeps over 500 KiB of each drain.
    const drains = Array.from({ length: 10 }, (_, d) =>
      runningDrain(`drn_big${d}`, 8_000, (i) => `pod-${randomBytes(48).toString('base64url')}-${i}`),
    );
    for (const drain of drains) await writer.save([drain]);
    const reader = await client();
    let storedBytes = 0;
    for (const d of drains) storedBytes += (await reader.get(keys.drain(d.id)).buffer())!.length;
    assert.ok(storedBytes > 4 * 1024 * 1024, `${storedBytes} bytes stored: more than one gRPC response may carry`);
    const starting = new EtcdDrainStore(await client(), keys, () => undefined, silent);
    const loaded = await starting.load();
    assert.deepEqual(loaded.map((d) => d.id).sort(), drains.map((d) => d.id).sort());
    await Promise.all([writer.close(), starting.close()]);
  });

  test('a replica away while the history it missed was compacted reads the drains again when it is back', async () => {
    const keys = new EtcdKeys('/unit-compacted/');
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: suite.etcd.clientPort });
    const away = new EtcdDrainStore(await client(proxy.endpoint), keys, () => undefined, silent);
    const direct = await client();
    const writer = new EtcdDrainStore(direct, keys, () => undefined, silent);
    await Promise.all([away.load(), writer.load()]);
    const seen = new Map<string, Drain | undefined>();
    away.watch((id, drain) => seen.set(id, drain));
    proxy.cut();
    await writer.save([drainRecord('drn_3')]);
    await writer.save([drainRecord('drn_4')]);
    // Everything before the last write is forgotten: a watch cannot resume from before it.
    const { revision } = (await direct.get(keys.drain('drn_4')).exec()).header;
    const compacted = await fetch(`http://${suite.etcd.endpoint}/v3/kv/compaction`, {
      method: 'POST',
      body: JSON.stringify({ revision, physical: true }),
    });
    assert.equal(compacted.status, 200);
    proxy.heal();
    await waitUntil('the returning replica to have both drains', () => seen.has('drn_3') && seen.has('drn_4'), 20_000);
    await Promise.all([away.close(), writer.close(), proxy.close()]);
  });

  test('a step by a replica whose election key is gone, or that has none, is refused; a change through the API is not', async () => {
    const keys = new EtcdKeys('/unit-leader/');
    const c = await client();
    const former = new EtcdDrainStore(c, keys, () => '/unit-leader/election/leader/gone', silent);
    await former.load();
    await assert.rejects(former.save([drainRecord('drn_2')], { step: true }), NotLeaderError);
    assert.equal(await c.get(keys.drain('drn_2')).string(), null);
    // Not a leader at all (its campaign just failed): a step is refused before anything is sent.
    const stepped = new EtcdDrainStore(c, keys, () => undefined, silent);
    await stepped.load();
    await assert.rejects(stepped.save([drainRecord('drn_2')], { step: true }), NotLeaderError);
    assert.equal(await c.get(keys.drain('drn_2')).string(), null);
    // A change asked for through the API needs no leadership.
    await stepped.save([drainRecord('drn_2')]);
    assert.notEqual(await c.get(keys.drain('drn_2')).string(), null);
    await stepped.close();
    await former.close();
  });

  test('config: version 2 is stored once even when two replicas store it at the same time', async () => {
    const keys = new EtcdKeys('/unit-config/');
    const a = new EtcdConfigStore(await client(), keys, 'a', silent);
    const b = new EtcdConfigStore(await client(), keys, 'b', silent);
    await Promise.all([a.start(), b.start()]);
    const followed: number[] = [];
    b.watch((c) => followed.push(c.version));
    assert.notEqual(await a.put('first', undefined, 'start'), 'conflict');
    const results = await Promise.all([a.put('from a', 1, 'api'), b.put('from b', 1, 'api')]);
    assert.equal(results.filter((r) => r === 'conflict').length, 1);
    assert.deepEqual(
      (await b.versions()).map((v) => v.version),
      [1, 2],
    );
    await waitUntil('b to follow both versions', () => followed.join() === '1,2', 30_000);
    await Promise.all([a.close(), b.close()]);
  });

  test("a dead replica's node records disappear with its lease", async () => {
    const keys = new EtcdKeys('/unit-nodes/');
    // x reaches etcd through a proxy: once it is cut, x is dead as far as etcd can tell.
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: suite.etcd.clientPort });
    const x = new EtcdNodeStatuses(await client(proxy.endpoint), keys, 'x', 2, silent);
    const y = new EtcdNodeStatuses(await client(), keys, 'y', 2, silent);
    await Promise.all([x.start(), y.start()]);
    const record: SharedNodeRecord = { replica: 'x', nodeId: 'envoy/1', status: null, drainAck: null, drainNack: null, connections: null };
    await x.publish(new Map([['envoy/1', JSON.stringify(record)]]));
    await waitUntil('y to see the record', () => y.others('envoy/1').length === 1, 30_000);
    assert.deepEqual(y.others('envoy/1'), [record]);
    proxy.cut();
    await waitUntil('the record to expire with the lease', () => y.others('envoy/1').length === 0, 15_000);
    await Promise.all([x.close(), y.close(), proxy.close()]);
  });

  test('a cancel whose write cannot reach etcd changes nothing: the drain runs, etcd holds it running, the node stays drained; the retry cancels it', async () => {
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: suite.etcd.clientPort });
    const store = new EtcdDrainStore(await client(proxy.endpoint), new EtcdKeys('/tx-cancel/'), () => undefined, silent);
    try {
      const keys = new EtcdKeys('/tx-cancel/');
      const { drains, connect } = drainManagerOn(store);
      await drains.load();
      const node = connect('a');
      const created = await drains.create({ selector: { cluster: 'test-cluster' }, scope: 'ingress', method: 'remove' });
      assert.ok('drain' in created);
      const id = created.drain.id;
      assert.deepEqual(node.listeners(), ['egress_http']);
      proxy.cut();
      await assert.rejects(drains.cancel(id), (err: Error) => err instanceof StoreUnavailableError);
      assert.equal(drains.get(id)!.state, 'running', 'not cancelled in memory');
      assert.deepEqual(node.listeners(), ['egress_http'], 'nothing pushed');
      assert.equal((await storedDrain(await client(), keys.drain(id))).state, 'running', 'etcd holds it running');
      proxy.heal();
      const cancelled = await waitUntil(
        'the cancel to go through once etcd is back',
        async () => (await drains.cancel(id).catch(() => undefined))?.state === 'cancelled',
      );
      assert.ok(cancelled);
      assert.deepEqual(node.listeners(), ['egress_http', 'ingress_http']);
      assert.equal((await storedDrain(await client(), keys.drain(id))).state, 'cancelled');
    } finally {
      // Its watch follows etcd until closed: left open, it would keep this process alive.
      await store.close();
      await proxy.close();
    }
  });

  test('a follower closed while etcd is away and its watch not yet created lets the process exit', async () => {
    // In a child process: if anything were left retrying (an etcd3 watch keeps retrying until
    // it is canceled), the child would never exit and the timeout below would fail the test.
    const script = `
      import pino from 'pino';
      import { etcdClient, EtcdFollower } from ${JSON.stringify(moduleUrl('../../src/store/etcd/client.js'))};
      import { TcpProxy } from ${JSON.stringify(moduleUrl('../support/tcp-proxy.js'))};
      const proxy = await TcpProxy.start({ host: '127.0.0.1', port: ${suite.etcd.clientPort} });
      const client = await etcdClient({ endpoints: [proxy.endpoint] });
      proxy.cut();
      const follower = new EtcdFollower(client, { prefix: '/unit-away/' }, { put() {}, delete() {} }, async () => '1', pino({ level: 'silent' }));
      const started = follower.start('1');
      await new Promise((r) => setTimeout(r, 1500));
      await follower.close();
      await started;
      client.close();
      await proxy.close();
      console.log('closed');
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
      cwd: new URL('.', import.meta.url).pathname,
    });
    assert.equal(stdout.trim(), 'closed');
  });
});
