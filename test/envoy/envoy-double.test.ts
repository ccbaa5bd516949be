/**
 * The Envoy test double (test/support/envoy-double/) as a child process: against a real
 * drainplane daemon, and against a scripted ADS server for the protocol details.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { Drain } from '../../src/fleet/drain/model.js';
import { encodeJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { discoveryService, TYPE } from '../support/ads-client.js';
import { startTestDaemon, waitUntil, type TestDaemon } from '../support/daemon.js';
import {
  ofType,
  startEnvoyDouble,
  writeDoubleBootstrap,
  type EnvoyDouble,
  type WrittenBootstrap,
} from '../support/envoy-double/control.js';
import { demoConfig } from '../support/fleet-configs.js';

const INGRESS = '127.0.0.1_10000';
const EGRESS = '127.0.0.1_15001';

describe('the Envoy test double against a real drainplane', { timeout: 20_000 }, () => {
  let d: TestDaemon;
  let bootstrap: WrittenBootstrap;
  let envoy: EnvoyDouble;

  const api = async <T>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${d.apiUrl}${route}`, {
      method,
      ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const admin = (route: string, method = 'GET'): Promise<Response> => fetch(`http://${envoy.adminAddress}${route}`, { method });
  const adminText = async (route: string, method = 'GET'): Promise<[number, string]> => {
    const res = await admin(route, method);
    return [res.status, await res.text()];
  };

  before(async () => {
    d = await startTestDaemon(demoConfig());
    bootstrap = await writeDoubleBootstrap({
      nodeId: 'double-1',
      cluster: 'test-cluster',
      xdsAddress: d.xdsAddress,
      statsFlushIntervalMs: 200,
    });
    envoy = await startEnvoyDouble(
      ['-c', bootstrap.file, '--drain-time-s', '30', '--drain-strategy', 'immediate', '--concurrency', '2'],
      { eventsFile: path.join(bootstrap.dir, 'events.jsonl') },
    );
  });
  after(async () => {
    await envoy?.kill();
    await d?.close();
    if (bootstrap) await rm(bootstrap.dir, { recursive: true, force: true });
  });

  test('it syncs CDS, EDS, LDS and RDS over ADS and then becomes LIVE', async () => {
    await envoy.waitFor(ofType('server_state', (e) => e.state === 'LIVE'));
    const ready = await admin('/ready');
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), 'LIVE\n');
    const info = (await (await admin('/server_info')).json()) as {
      state: string;
      command_line_options: { drain_time: string; drain_strategy: string };
      node: { id: string };
    };
    assert.equal(info.state, 'LIVE');
    assert.equal(info.command_line_options.drain_time, '30s');
    assert.equal(info.command_line_options.drain_strategy, 'Immediate');
    assert.equal(info.node.id, 'double-1');

    await envoy.waitFor(ofType('xds_ack', (e) => e.resource_type === 'RDS'));
    const events = await envoy.events();
    const acks = events.filter(ofType('xds_ack'));
    assert.deepEqual(
      acks.map((e) => e.resource_type),
      ['CDS', 'EDS', 'LDS', 'RDS'],
      'each type is ACKed once, in the order Envoy subscribes',
    );
    assert.deepEqual(acks[1]!.resources, ['app', 'upstream']);
    assert.deepEqual(acks[3]!.resources.sort(), ['egress_http_routes', 'ingress_http_routes']);
    assert.deepEqual(events.filter(ofType('xds_nack')), []);
    const [started] = events.filter(ofType('started'));
    assert.deepEqual(started!.ignored_flags, ['--concurrency', '2']);
    await waitUntil('drainplane to see the LDS ACK', () => d.daemon.nodes.get('double-1')?.types.lds?.acked !== undefined);
  });

  test('it records both listeners with their traffic direction and drain type', async () => {
    const added = (await envoy.events()).filter(ofType('listener_added'));
    assert.deepEqual(
      added.map(({ name, address, traffic_direction, drain_type }) => ({ name, address, traffic_direction, drain_type })),
      [
        { name: 'egress_http', address: '127.0.0.1:15001', traffic_direction: 'OUTBOUND', drain_type: 'MODIFY_ONLY' },
        { name: 'ingress_http', address: '127.0.0.1:10000', traffic_direction: 'INBOUND', drain_type: 'DEFAULT' },
      ],
    );
  });

  test('an ingress drain removes only ingress_http, and completes once its gauge, sent over the metrics sink, is 0', async () => {
    await envoy.setGauges({ listeners: { [INGRESS]: 3, [EGRESS]: 5 } });
    // On the wire before the drain starts, so every report drainplane holds by then carries them.
    await envoy.waitFor(ofType('gauges_flushed', (e) => e.listeners[INGRESS] === 3));
    const stats = (await (await admin('/stats?format=json&filter=downstream_cx_active')).json()) as { stats: { name?: string; value?: number }[] };
    assert.deepEqual(
      stats.stats.filter((s) => s.name),
      [
        { name: `listener.${INGRESS}.downstream_cx_active`, value: 3 },
        { name: `listener.${EGRESS}.downstream_cx_active`, value: 5 },
      ],
    );

    const created = await api<Drain>('POST', '/v1/drains', { selector: { cluster: 'test-cluster' }, scope: 'ingress', method: 'remove' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const removed = await envoy.waitFor(ofType('listener_removed'));
    assert.equal(removed.name, 'ingress_http');
    assert.equal(removed.traffic_direction, 'INBOUND');
    const drainStarted = await envoy.waitFor(ofType('listener_drain_started'));
    assert.deepEqual(
      { name: drainStarted.name, reason: drainStarted.reason, drain_time_s: drainStarted.drain_time_s, strategy: drainStarted.drain_strategy },
      { name: 'ingress_http', reason: 'removed', drain_time_s: 30, strategy: 'immediate' },
    );

    await waitUntil(
      'the ingress gauge to reach drainplane through the metrics sink',
      () => d.daemon.drains.get(created.body.id)?.phases[0]?.nodes[0]?.listeners[0]?.connections === 3,
    );
    const running = (await api<Drain>('GET', `/v1/drains/${created.body.id}`)).body;
    assert.equal(running.state, 'running');
    assert.deepEqual(
      running.phases[0]!.nodes[0]!.listeners.map((l) => [l.name, l.connections]),
      [['ingress_http', 3]],
    );

    await envoy.setGauges({ listeners: { [INGRESS]: 0, [EGRESS]: 5 } });
    await waitUntil('the drain to complete', () => d.daemon.drains.get(created.body.id)?.state === 'completed');
    assert.equal((await api<Drain>('GET', `/v1/drains/${created.body.id}`)).body.state, 'completed');

    const changes = (await envoy.events()).filter((e) => e.type === 'listener_removed' || e.type === 'listener_modified');
    assert.deepEqual(
      changes.map((e) => `${e.type} ${'name' in e ? e.name : ''}`),
      ['listener_removed ingress_http'],
      'egress_http is untouched',
    );
    assert.equal((await admin('/ready')).status, 200, 'an LDS drain leaves the server LIVE');
  });

  test('admin mutations are POST only and recorded; /healthcheck/fail spares the MODIFY_ONLY egress listener', async () => {
    assert.deepEqual(await adminText('/healthcheck/fail'), [405, 'Method GET not allowed, POST required.']);
    await envoy.waitFor(ofType('admin_refused', (e) => e.path === '/healthcheck/fail' && e.method === 'GET'));
    assert.deepEqual(await adminText('/ready'), [200, 'LIVE\n']);

    assert.deepEqual(await adminText('/healthcheck/fail', 'POST'), [200, 'OK\n']);
    const failed = await envoy.waitFor(ofType('healthcheck_fail'));
    assert.deepEqual(failed.affects, [], 'only egress_http (MODIFY_ONLY) is left after the ingress drain');
    assert.deepEqual(await adminText('/ready'), [503, 'DRAINING\n']);

    assert.deepEqual(await adminText('/drain_listeners?graceful&inboundonly', 'POST'), [200, 'OK\n']);
    const drained = await envoy.waitFor(ofType('drain_listeners'));
    assert.deepEqual(drained, { ...drained, graceful: true, inboundonly: true, skip_exit: false, listeners: [] });

    assert.deepEqual(await adminText('/healthcheck/ok', 'POST'), [200, 'OK\n']);
    await envoy.waitFor(ofType('healthcheck_ok'));
    assert.deepEqual(await adminText('/ready'), [200, 'LIVE\n']);
  });

  test('SIGHUP is recorded and ignored; SIGTERM makes it exit at once with code 0', async () => {
    envoy.child.kill('SIGHUP');
    await envoy.waitFor(ofType('signal', (e) => e.signal === 'SIGHUP' && e.action === 'ignored'));
    assert.equal((await admin('/ready')).status, 200);

    const sentAt = Date.now();
    envoy.child.kill('SIGTERM');
    const exit = await envoy.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - sentAt < 3000, `exited ${Date.now() - sentAt} ms after SIGTERM, with a 30 s drain time`);
    const last = (await envoy.events()).at(-1);
    assert.ok(last && ofType('signal')(last), `the last event is ${JSON.stringify(last)}`);
    assert.deepEqual([last.signal, last.action], ['SIGTERM', 'exit']);
  });
});

/** A DiscoveryRequest as proto-loader decodes it on the server side. */
interface SeenRequest {
  type_url?: string;
  version_info?: string;
  resource_names?: string[];
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
  node?: { id?: string };
}

type AdsCall = grpc.ServerDuplexStream<SeenRequest, object>;

/** Items in arrival order; next() takes the oldest, waiting for one if need be. */
class Arrivals<T> {
  readonly #items: T[] = [];
  readonly #waiting: ((item: T) => void)[] = [];

  constructor(private readonly what: string) {}

  push(item: T): void {
    const take = this.#waiting.shift();
    if (take) take(item);
    else this.#items.push(item);
  }

  next(timeoutMs = 5000): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    return new Promise((resolve, reject) => {
      const take = (item: T): void => {
        clearTimeout(timer);
        resolve(item);
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(take), 1);
        reject(new Error(`no ${this.what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.push(take);
    });
  }
}

/** One ADS stream as the scripted server sees it. */
class ScriptedStream {
  readonly #requests = new Arrivals<SeenRequest>('request');

  constructor(readonly call: AdsCall) {
    call.on('data', (req: SeenRequest) => this.#requests.push(req));
    call.on('error', () => {}); // the client going away is part of the script
  }

  next(): Promise<SeenRequest> {
    return this.#requests.next();
  }

  respond(typeUrl: string, version: string, nonce: string, resources: { type_url: string; value: Uint8Array }[]): void {
    this.call.write({ type_url: typeUrl, version_info: version, nonce, resources });
  }
}

/** Packs a resource written as Envoy JSON (canonical proto3 JSON) into an Any. */
function any(typeUrl: string, json: unknown): { type_url: string; value: Uint8Array } {
  const protos = envoyProtos();
  const encoded = encodeJson(protos, protos.typeFromUrl(typeUrl)!, json);
  assert.ok(encoded.ok, JSON.stringify(!encoded.ok && encoded.errors));
  return { type_url: typeUrl, value: encoded.value };
}

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ingressListener = any(TYPE.LDS, {
  name: 'ingress',
  traffic_direction: 'INBOUND',
  address: { socket_address: { address: '127.0.0.1', port_value: 10000 } },
  filter_chains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': HCM,
            stat_prefix: 'ingress',
            rds: { route_config_name: 'routes', config_source: { ads: {}, resource_api_version: 'V3' } },
            http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
          },
        },
      ],
    },
  ],
});

describe('the Envoy test double against a scripted ADS server', { timeout: 20_000 }, () => {
  const server = new grpc.Server();
  const streams = new Arrivals<ScriptedStream>('ADS stream');
  let bootstrap: WrittenBootstrap;
  let envoy: EnvoyDouble;

  before(async () => {
    server.addService(discoveryService('ads').service, {
      StreamAggregatedResources: (call: AdsCall) => streams.push(new ScriptedStream(call)),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    bootstrap = await writeDoubleBootstrap({ nodeId: 'scripted-1', cluster: 'c1', xdsAddress: `127.0.0.1:${port}`, metricsSink: false });
  });
  after(async () => {
    await envoy?.kill();
    server.forceShutdown();
    if (bootstrap) await rm(bootstrap.dir, { recursive: true, force: true });
  });

  test('it NACKs what it cannot decode, keeps its config, and resubscribes with its last versions after a reconnect', async () => {
    envoy = await startEnvoyDouble(['-c', bootstrap.file], { eventsFile: path.join(bootstrap.dir, 'events.jsonl') });
    const s1 = await streams.next();
    const cds = await s1.next();
    assert.deepEqual([cds.type_url, cds.node?.id, cds.resource_names ?? []], [TYPE.CDS, 'scripted-1', []]);
    assert.equal((await fetch(`http://${envoy.adminAddress}/ready`)).status, 503);

    s1.respond(TYPE.CDS, 'c1', 'n1', [any(TYPE.CDS, { name: 'app', type: 'STATIC', connect_timeout: '1s' })]);
    assert.deepEqual(pick(await s1.next()), { type_url: TYPE.CDS, version_info: 'c1', response_nonce: 'n1', resource_names: [] });
    const lds = await s1.next();
    assert.deepEqual([lds.type_url, lds.resource_names ?? [], lds.node], [TYPE.LDS, [], undefined], 'LDS once clusters are in; node on the first request only');

    s1.respond(TYPE.LDS, 'l1', 'n2', [ingressListener]);
    assert.deepEqual(pick(await s1.next()), { type_url: TYPE.LDS, version_info: 'l1', response_nonce: 'n2', resource_names: [] });
    assert.deepEqual(pick(await s1.next()), { type_url: TYPE.RDS, version_info: '', response_nonce: '', resource_names: ['routes'] });
    s1.respond(TYPE.RDS, 'r1', 'n3', [any(TYPE.RDS, { name: 'routes' })]);
    assert.deepEqual(pick(await s1.next()), { type_url: TYPE.RDS, version_info: 'r1', response_nonce: 'n3', resource_names: ['routes'] });
    await envoy.waitFor(ofType('server_state', (e) => e.state === 'LIVE'));

    s1.respond(TYPE.LDS, 'l2', 'n4', [{ type_url: TYPE.LDS, value: Buffer.from([0xff, 0xff, 0xff]) }]);
    const nack = await s1.next();
    assert.deepEqual(pick(nack), { type_url: TYPE.LDS, version_info: 'l1', response_nonce: 'n4', resource_names: [] });
    assert.equal(nack.error_detail?.code, grpc.status.INTERNAL);
    assert.match(nack.error_detail?.message ?? '', /^Unable to unpack as envoy\.config\.listener\.v3\.Listener: /);

    s1.call.emit('error', Object.assign(new Error('control plane restarting'), { code: grpc.status.UNAVAILABLE }));
    const s2 = await streams.next();
    const resubscribed = [await s2.next(), await s2.next(), await s2.next()];
    assert.deepEqual(
      resubscribed.map(pick),
      [
        { type_url: TYPE.CDS, version_info: 'c1', response_nonce: '', resource_names: [] },
        { type_url: TYPE.LDS, version_info: 'l1', response_nonce: '', resource_names: [] },
        { type_url: TYPE.RDS, version_info: 'r1', response_nonce: '', resource_names: ['routes'] },
      ],
      'each subscription again, in order, with its last accepted version and no nonce',
    );
    assert.equal(resubscribed[0]!.node?.id, 'scripted-1');

    s2.respond(TYPE.LDS, 'l1', 'm1', [ingressListener]);
    assert.deepEqual(pick(await s2.next()), { type_url: TYPE.LDS, version_info: 'l1', response_nonce: 'm1', resource_names: [] });
    const events = await envoy.events();
    assert.deepEqual(
      events.filter((e) => e.type.startsWith('listener_')).map((e) => e.type),
      ['listener_added'],
      'neither the NACK, nor the disconnect, nor the same listener again changed anything',
    );
    assert.deepEqual(events.filter(ofType('xds_nack')).map((e) => e.rejected_version), ['l2']);
    assert.equal((await fetch(`http://${envoy.adminAddress}/ready`)).status, 200);
  });
});

/** The fields every request is compared on, proto3 defaults filled in. */
function pick(req: SeenRequest): Pick<Required<SeenRequest>, 'type_url' | 'version_info' | 'response_nonce' | 'resource_names'> {
  return {
    type_url: req.type_url ?? '',
    version_info: req.version_info ?? '',
    response_nonce: req.response_nonce ?? '',
    resource_names: req.resource_names ?? [],
  };
}
