/**
 * The raw xDS test client against a scripted in-process server, so that protocol tests can trust
 * what it reports: the server here is driven step by step and answers with hand-made responses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { envoyProtos } from '../../src/resource/protos.js';
import { TYPE, discoveryService, openDeltaStream, openSotwStream } from '../support/ads-client.js';
import { checkSotwResponses } from '../support/protocol-checker.js';

/** The parts of a request these tests look at, as proto-loader decodes it on the server. */
interface SeenRequest {
  type_url?: string;
  version_info?: string;
  resource_names?: string[];
  resource_names_subscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
  node?: { id?: string; cluster?: string; metadata?: { fields?: Record<string, { stringValue?: string }> }; locality?: { zone?: string } };
}

type ServerCall = grpc.ServerDuplexStream<SeenRequest, object>;

/** Items handed out oldest first; shift() waits for the next one, but never for long. */
class Queue<T> {
  private readonly items: T[] = [];
  private readonly waiting: ((item: T) => void)[] = [];

  push(item: T): void {
    const take = this.waiting.shift();
    if (take) take(item);
    else this.items.push(item);
  }

  shift(timeoutMs = 1000): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve, reject) => {
      const take = (item: T): void => {
        clearTimeout(timer);
        resolve(item);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        reject(new Error(`nothing arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(take);
    });
  }
}

interface FakeCall {
  path: string;
  requests: Queue<SeenRequest>;
  call: ServerCall;
}

/** Serves the ADS and LDS services; every stream opened is handed to the test as a FakeCall. */
async function startServer(): Promise<{ address: string; nextCall(): Promise<FakeCall>; stop(): void }> {
  const server = new grpc.Server();
  const calls = new Queue<FakeCall>();
  const accept = (call: ServerCall): void => {
    const requests = new Queue<SeenRequest>();
    call.on('data', (req: SeenRequest) => requests.push(req));
    call.on('error', () => {}); // a client cancelling is part of the script, not a failure
    calls.push({ path: call.getPath(), requests, call });
  };
  server.addService(discoveryService('ads').service, { StreamAggregatedResources: accept, DeltaAggregatedResources: accept });
  server.addService(discoveryService('lds').service, { StreamListeners: accept, DeltaListeners: accept });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, nextCall: () => calls.shift(), stop: () => server.forceShutdown() };
}

function packed(typeUrl: string, fields: Record<string, unknown>): { type_url: string; value: Buffer } {
  const type = envoyProtos().typeFromUrl(typeUrl)!;
  return { type_url: typeUrl, value: Buffer.from(type.encode(type.fromObject(fields)).finish()) };
}

const listener = (name: string, port: number) => packed(TYPE.LDS, { name, address: { socket_address: { address: '0.0.0.0', port_value: port } } });
const cluster = (name: string) => packed(TYPE.CDS, { name, connect_timeout: { seconds: 5 } });

/** Ends a server stream with a status, the way grpc-js servers do it. */
function fail(call: ServerCall, code: grpc.status, details: string): void {
  call.emit('error', Object.assign(new Error(details), { code, details }));
}

describe('ads-client against a scripted server', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('SotW over ADS: node, typed next, ack, nack, silence, status', async () => {
    const stream = openSotwStream(server.address);
    stream.send({
      type_url: TYPE.LDS,
      resource_names: [],
      node: { id: 'envoy-1', cluster: 'edge', metadata: { pool: 'blue' }, locality: { zone: 'z1' } },
    });
    const fake = await server.nextCall();
    assert.equal(fake.path, '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources');
    const first = await fake.requests.shift();
    assert.equal(first.type_url, TYPE.LDS);
    assert.equal(first.node?.id, 'envoy-1');
    assert.equal(first.node?.metadata?.fields?.pool?.stringValue, 'blue');
    assert.equal(first.node?.locality?.zone, 'z1');

    // A CDS push first: next(LDS) must skip it, and it stays queued for next(CDS).
    fake.call.write({ version_info: 'c1', nonce: 'n1', type_url: TYPE.CDS, resources: [cluster('backend')] });
    const sent = listener('ingress', 10000);
    fake.call.write({ version_info: 'v1', nonce: 'n2', type_url: TYPE.LDS, resources: [sent] });
    const lds = await stream.next(TYPE.LDS);
    assert.equal(lds.version_info, 'v1');
    assert.equal(lds.resources[0]!.name, 'ingress');
    assert.deepEqual(lds.resources[0]!.bytes, sent.value);
    assert.deepEqual(lds.resources[0]!.message.address, { socket_address: { address: '0.0.0.0', port_value: 10000 } });
    const cds = await stream.next(TYPE.CDS);
    assert.deepEqual(cds.resources[0]!.message, { name: 'backend', connect_timeout: { seconds: '5' } });
    assert.deepEqual(
      stream.responses.map((r) => r.nonce),
      ['n1', 'n2'],
    );

    stream.ack(lds);
    const ack = await fake.requests.shift();
    assert.deepEqual(
      { ...ack, node: undefined },
      { type_url: TYPE.LDS, version_info: 'v1', response_nonce: 'n2', node: undefined },
      'an ACK repeats version and nonce, and the node only goes on the first request',
    );

    stream.send({ type_url: TYPE.CDS, resource_names: ['backend'] });
    await fake.requests.shift();
    stream.nack(cds, '', 'bad cluster');
    const nack = await fake.requests.shift();
    assert.equal(nack.response_nonce, 'n1');
    assert.equal(nack.version_info ?? '', '', 'no version ACKed yet');
    assert.deepEqual(nack.resource_names, ['backend'], 'the subscription is repeated');
    assert.deepEqual(nack.error_detail, { code: grpc.status.INTERNAL, message: 'bad cluster' });

    await stream.expectSilence(50);
    const silence = stream.expectSilence(500, TYPE.LDS);
    fake.call.write({ version_info: 'v2', nonce: 'n3', type_url: TYPE.LDS, resources: [listener('ingress', 10001)] });
    await assert.rejects(silence, /expected no LDS response for 500 ms, got LDS response version "v2" nonce "n3" \[ingress\]/);
    assert.equal((await stream.next()).nonce, 'n3', 'the unexpected response is still readable');

    await assert.rejects(stream.next(TYPE.RDS, 30), /no RDS response within 30 ms/);
    assert.deepEqual(stream.violations(), []);

    const pending = stream.next(TYPE.LDS);
    fail(fake.call, grpc.status.UNAVAILABLE, 'draining');
    assert.deepEqual(await stream.closed, { code: grpc.status.UNAVAILABLE, details: 'draining' });
    await assert.rejects(pending, /stream closed with status 14 UNAVAILABLE: draining/);
  });

  it('SotW: node null omits the node; a per-type service fills in its type URL', async () => {
    const stream = openSotwStream(server.address, { service: 'lds' });
    stream.send({ node: null });
    const fake = await server.nextCall();
    assert.equal(fake.path, '/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners');
    assert.deepEqual(await fake.requests.shift(), { type_url: TYPE.LDS });
    stream.close();
    assert.equal((await stream.closed).code, grpc.status.CANCELLED);
  });

  it('SotW: records protocol violations', async () => {
    const stream = openSotwStream(server.address);
    stream.send({ type_url: TYPE.LDS });
    const fake = await server.nextCall();
    fake.call.write({ version_info: 'v1', nonce: 'a', type_url: TYPE.LDS, resources: [listener('x', 1), listener('x', 2)] });
    fake.call.write({ nonce: 'a', type_url: TYPE.LDS, resources: [cluster('c')] });
    fake.call.end();
    await stream.closed;
    const expected = [
      'response #1 (Listener, nonce "a"): resource "x" appears more than once',
      'response #2 (Listener, nonce "a"): nonce already used on this stream',
      'response #2 (Listener, nonce "a"): empty version_info',
      `response #2 (Listener, nonce "a"): resource "c" has type_url ${TYPE.CDS}`,
    ];
    assert.deepEqual(stream.violations(), expected);
    assert.deepEqual(checkSotwResponses(stream.responses), expected);
  });

  it('Delta over ADS: subscribe, next, ack, nack, violations, close', async () => {
    const stream = openDeltaStream(server.address);
    stream.send({ type_url: TYPE.LDS, resource_names_subscribe: ['*'], initial_resource_versions: { ingress: 'h0' } });
    const fake = await server.nextCall();
    assert.equal(fake.path, '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources');
    const first = await fake.requests.shift();
    assert.equal(first.node?.id, 'test-envoy', 'the default node goes on the first request');
    assert.deepEqual(first.initial_resource_versions, { ingress: 'h0' });

    const sent = listener('ingress', 10000);
    fake.call.write({
      system_version_info: 's1',
      nonce: 'd1',
      type_url: TYPE.LDS,
      resources: [{ name: 'ingress', version: 'h1', resource: sent }],
      removed_resources: ['old'],
    });
    const res = await stream.next(TYPE.LDS);
    assert.equal(res.resources[0]!.version, 'h1');
    assert.deepEqual(res.resources[0]!.resource.bytes, sent.value);
    assert.equal(res.resources[0]!.resource.message.name, 'ingress');
    assert.deepEqual(res.removed_resources, ['old']);

    stream.ack(res);
    assert.deepEqual(await fake.requests.shift(), { type_url: TYPE.LDS, response_nonce: 'd1' });
    stream.nack(res, 'rejected');
    const nack = await fake.requests.shift();
    assert.deepEqual(nack.error_detail, { code: grpc.status.INTERNAL, message: 'rejected' });

    await stream.expectSilence(50, TYPE.LDS);
    fake.call.write({ nonce: 'd2', type_url: TYPE.LDS });
    fake.call.write({ nonce: 'd3', type_url: TYPE.LDS, resources: [{ name: 'other', version: 'h1', resource: sent }] });
    await stream.next();
    await stream.next();
    assert.deepEqual(stream.violations(), [
      'response #2 (Listener, nonce "d2"): neither resources nor removals',
      'response #3 (Listener, nonce "d3"): resource "other" carries a body named "ingress"',
    ]);

    stream.close();
    assert.equal((await stream.closed).code, grpc.status.CANCELLED);
    await assert.rejects(stream.next(), /stream closed with status 1 CANCELLED/);
  });
});
