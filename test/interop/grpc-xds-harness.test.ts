/**
 * Checks the grpc-js-xds node harness against a throwaway ADS server (test/support/mini-xds-server),
 * so that tests using it against drainplane can trust what a node reports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import {
  echoClient,
  freeLoopbackPort,
  startGrpcXdsNode,
  type EchoClient,
  type GrpcXdsNode,
} from '../support/grpc-xds-node.js';
import { grpcServerListener } from '../support/grpc-xds-resources.js';
import { startMiniXdsServer, type MiniXdsServer } from '../support/mini-xds-server.js';

/** Longer than the in-flight stream below, so the modification must let it finish. */
const DRAIN_GRACE_MS = 2000;
const STEP_TIMEOUT_MS = 5000;

const isUnavailable = (err: unknown): boolean => (err as ServiceError).code === status.UNAVAILABLE;

describe('a grpc-js-xds node driven by LDS', { timeout: 60_000 }, () => {
  const nodeId = 'harness-1';
  const cluster = 'harness';
  let xds!: MiniXdsServer;
  let node!: GrpcXdsNode;
  let port: number;
  const clients: EchoClient[] = [];
  const newClient = (addresses: string[]): EchoClient => {
    const c = echoClient(addresses);
    clients.push(c);
    return c;
  };

  before(async () => {
    xds = await startMiniXdsServer();
    port = await freeLoopbackPort();
    node = await startGrpcXdsNode({ xdsServer: xds.address, nodeId, cluster, port, drainGraceMs: DRAIN_GRACE_MS });
  });

  after(async () => {
    clients.forEach((c) => c.close());
    await node?.kill();
    await xds?.close();
  });

  it('is not serving before it has a listener', async () => {
    await node.waitForNotServing(STEP_TIMEOUT_MS);
  });

  it('serves once the xDS server sends its listener', async () => {
    const version = xds.setListeners([grpcServerListener({ port })]);
    await node.waitForServing(STEP_TIMEOUT_MS);
    await xds.waitForAck(nodeId, version, STEP_TIMEOUT_MS);
    assert.equal(xds.nodes.get(nodeId), cluster);
    assert.ok(node.events.some((e) => e.type === 'serving-status' && e.serving));
    assert.deepEqual(await newClient([node.address]).echo('hello'), { message: 'hello', node: nodeId });
    assert.deepEqual(xds.nacks, []);
  });

  it('keeps serving through a listener modification and lets an in-flight stream finish', async () => {
    const client = newClient([node.address]);
    const stream = client.stream(10, 100);
    await stream.first;
    const version = xds.setListeners([grpcServerListener({ port, metadata: { revision: '2' } })]);
    await xds.waitForAck(nodeId, version, STEP_TIMEOUT_MS);
    await node.waitForServing(STEP_TIMEOUT_MS);
    assert.equal((await client.echo('after the change')).message, 'after the change');
    const replies = await stream.done;
    assert.deepEqual(
      replies.map((r) => r.seq),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(xds.nacks, []);
  });

  it('refuses new connections once its listener is removed', async () => {
    const mark = node.events.length;
    const version = xds.setListeners([]);
    await xds.waitForAck(nodeId, version, STEP_TIMEOUT_MS);
    await node.waitForNotServing(3000);
    await assert.rejects(newClient([node.address]).echo('refused?', 2000), isUnavailable);
    // Earlier clients' connections are drained, and destroyed at the latest after the grace time.
    await node.waitForEvent(
      (e, i) => i >= mark && e.type === 'connections' && e.open === 0,
      DRAIN_GRACE_MS + STEP_TIMEOUT_MS,
    );
  });

  it('serves again when its listener comes back', async () => {
    xds.setListeners([grpcServerListener({ port })]);
    await node.waitForServing(STEP_TIMEOUT_MS);
    assert.equal((await newClient([node.address]).echo('back')).node, nodeId);
  });

  it('exits cleanly on stop()', async () => {
    await node.stop(); // rejects unless the process exits with code 0
    assert.deepEqual(
      node.events.slice(-2).map((e) => e.type),
      ['stopped', 'exit'],
    );
  });
});

describe('grpc-js-xds nodes side by side', { timeout: 60_000 }, () => {
  let xds!: MiniXdsServer;
  const nodes: GrpcXdsNode[] = [];
  let client: EchoClient | undefined;

  before(async () => {
    xds = await startMiniXdsServer();
    const ports = await Promise.all([freeLoopbackPort(), freeLoopbackPort()]);
    nodes.push(
      ...(await Promise.all(
        ports.map((port, i) =>
          startGrpcXdsNode({ xdsServer: xds.address, nodeId: `side-${i}`, cluster: `cluster-${i}`, port }),
        ),
      )),
    );
  });

  after(async () => {
    client?.close();
    await Promise.all(nodes.map((n) => n.kill()));
    await xds?.close();
  });

  it('each has its own identity and listener, and a round-robin client reaches both', async () => {
    const [a, b] = nodes as [GrpcXdsNode, GrpcXdsNode];
    xds.setListeners(nodes.map((n) => grpcServerListener({ port: n.port })));
    await Promise.all(nodes.map((n) => n.waitForServing(STEP_TIMEOUT_MS)));
    assert.equal(xds.nodes.get('side-0'), 'cluster-0');
    assert.equal(xds.nodes.get('side-1'), 'cluster-1');

    client = echoClient([a.address, b.address]);
    const answered = new Set<string>();
    // round_robin only picks connected nodes, and the second may connect a moment after the first.
    for (let i = 0; i < 20 && answered.size < 2; i++) answered.add((await client.echo('who')).node);
    assert.deepEqual([...answered].sort(), ['side-0', 'side-1']);

    xds.setListeners([grpcServerListener({ port: a.port })]);
    await b.waitForNotServing(3000);
    await a.waitForServing(STEP_TIMEOUT_MS);
    assert.deepEqual(xds.nacks, []);
  });
});
