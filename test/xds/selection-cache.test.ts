/**
 * SotW streams that name their resources share one selection (and its response) per snapshot
 * and list of names. The lists come from clients: the cache of them is bounded, and what it
 * held goes when it is pushed out, not when the daemon stops.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { combineEvents } from '../../src/xds/events.js';
import { XdsServer } from '../../src/xds/server.js';
import { openSotwStream, TYPE, type SotwStream } from '../support/ads-client.js';
import { desiredStateOf } from '../support/desired-state.js';
import { demoConfig } from '../support/fleet-configs.js';
import { waitUntil } from '../support/wait.js';

const MiB = 1024 * 1024;
const BOUND = 2 * MiB;

let server: XdsServer;
let address: string;
const streams: SotwStream[] = [];
let handled = 0;

before(async () => {
  const { cache, desired } = desiredStateOf(demoConfig());
  server = new XdsServer({
    watcher: cache,
    events: combineEvents(desired.events, { responseSent: () => (handled += 1) }),
    limits: { maxSelectionCacheBytes: BOUND },
  });
  address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
});
after(async () => {
  for (const s of streams) s.close();
  await server.close(500);
});

/** The heap in use after a full garbage collection (the runner starts node without --expose-gc). */
function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('1,000 requests naming 2,000 different resources each leave the cache within its bound, and the heap too', { timeout: 90_000 }, async () => {
  const before = heapAfterGc();
  const s = openSotwStream(address, { node: { id: 'namer', cluster: 'test-cluster' } });
  streams.push(s);
  s.send({ type_url: TYPE.RDS, resource_names: ['ingress_http_routes'] });
  const first = await s.next(TYPE.RDS);
  // Unanswered, the RDS response keeps later ones back, but every request is planned all the same.
  const batch = 1000;
  for (let i = 0; i < batch; i++) {
    s.send({ type_url: TYPE.RDS, resource_names: Array.from({ length: 2000 }, (_, k) => `route-${i}-${k}-${'r'.repeat(24)}`) });
  }
  // The ACK of the first response comes after them: its answer shows they were all handled.
  s.ack(first, ['ingress_http_routes']);
  await waitUntil('the requests to be handled', () => handled >= 2, 60_000);
  const held = server.held;
  assert.ok(held.selectionBytes <= BOUND, `${held.selectionBytes} bytes held`);
  assert.ok(held.selections < 100, `${held.selections} selections held`);
  s.close();
  await waitUntil('the stream to close', () => server.streamCount === 0);
  const grown = heapAfterGc() - before;
  assert.ok(grown < 24 * MiB, `the heap grew by ${(grown / MiB).toFixed(1)} MiB after the stream closed`);
});

test('streams that name the same resources share one selection, and so one response', { timeout: 20_000 }, async () => {
  const before = server.held.selections;
  const nonces = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const s = openSotwStream(address, { node: { id: `group-member-${i}`, cluster: 'test-cluster' } });
    streams.push(s);
    s.send({ type_url: TYPE.RDS, resource_names: ['ingress_http_routes', 'egress_http_routes'] });
    const response = await s.next(TYPE.RDS);
    assert.equal(response.resources.length, 2);
    nonces.add(response.nonce);
  }
  assert.equal(nonces.size, 1, 'the same bytes, nonce included');
  assert.ok(server.held.selections <= before + 1);
});
