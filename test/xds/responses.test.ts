import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypeSnapshot } from '../../src/cache/snapshot.js';
import { EncodedResource } from '../../src/resource/encoded-resource.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { DeltaSubscription } from '../../src/xds/delta-subscription.js';
import type { DeltaRequest } from '../../src/xds/requests.js';
import { sotwResponse } from '../../src/xds/responses.js';
import { SelectionCache } from '../../src/xds/selection-cache.js';

function clusters(...names: string[]): TypeSnapshot {
  const Cluster = envoyProtos().type('envoy.config.cluster.v3.Cluster');
  return new TypeSnapshot(
    TypeUrl.Cluster,
    names.map((name) => new EncodedResource(TypeUrl.Cluster, name, Buffer.from(Cluster.encode(Cluster.fromObject({ name })).finish()))),
  );
}

test('streams sending the same content share one response, nonce included', () => {
  const snapshot = clusters('a', 'b');
  const first = sotwResponse(snapshot, 0);
  const second = sotwResponse(snapshot, 0);
  assert.equal(second, first, 'the second stream gets the very same bytes');
  const Response = envoyProtos().type('envoy.service.discovery.v3.DiscoveryResponse');
  const decoded = Response.toObject(Response.decode(first.bytes)) as { nonce: string; resources: unknown[] };
  assert.equal(decoded.nonce, first.nonce);
  assert.equal(decoded.resources.length, 2);
});

test('a stream that already used the shared nonce gets a new one, never a repeat', () => {
  const older = clusters('a');
  const shared = sotwResponse(older, 0);
  const newer = sotwResponse(clusters('a', 'b'), shared.seq);
  // A stream that has been sent `newer` goes back to the older content (a cancelled drain):
  const back = sotwResponse(older, newer.seq);
  assert.notEqual(back.nonce, shared.nonce);
  assert.notEqual(back.nonce, newer.nonce);
  assert.ok(back.seq > newer.seq);
  assert.deepEqual(
    back.bytes.subarray(0, shared.bytes.length - 2 - shared.nonce.length),
    shared.bytes.subarray(0, shared.bytes.length - 2 - shared.nonce.length),
  );
  // Streams that come later share the re-nonced response.
  assert.equal(sotwResponse(older, 0), back);
});

function deltaRequest(fields: Partial<DeltaRequest>): DeltaRequest {
  return {
    typeUrl: TypeUrl.Cluster,
    subscribe: [],
    unsubscribe: [],
    initialResourceVersions: {},
    responseNonce: '',
    errorDetail: undefined,
    resourceCount: 0,
    node: undefined,
    ...fields,
  };
}

/** A wildcard Delta subscription that has been sent `snapshot` and ACKed it. */
function syncedDelta(snapshot: TypeSnapshot, extra: Partial<DeltaRequest> = {}): DeltaSubscription {
  const sub = new DeltaSubscription(TypeUrl.Cluster, new SelectionCache(1 << 20));
  sub.apply(deltaRequest(extra));
  const plan = sub.plan(snapshot)!;
  const response = plan.respond(0);
  plan.commit(response.nonce);
  sub.apply(deltaRequest({ responseNonce: response.nonce }));
  return sub;
}

test('Delta wildcard streams that have the same snapshot share the response to the next one', () => {
  const before = clusters('a', 'b', 'c');
  const after = clusters('a', 'b');
  const [one, two] = [syncedDelta(before), syncedDelta(before)];
  const first = one.plan(after)!;
  const second = two.plan(after)!;
  assert.equal(first.removed, 1);
  assert.equal(first.resources, 0);
  assert.equal(first.contentKey, second.contentKey);
  assert.equal(second.respond(0), first.respond(0));
  const Response = envoyProtos().type('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const decoded = Response.toObject(Response.decode(first.respond(0).bytes)) as { removed_resources: string[] };
  assert.deepEqual(decoded.removed_resources, ['c']);

  // A stream that also names a resource of its own is told about it, in a response of its own.
  const named = syncedDelta(before, { subscribe: ['*', 'gone'] });
  const own = named.plan(after)!;
  assert.notEqual(own.respond(0), first.respond(0));
  assert.equal(own.removed, 1, 'c is removed; "gone" was already reported absent');
});

test('fresh Delta streams share their first response, by name and wildcard alike, and an ACK plans nothing more', () => {
  const snapshot = clusters('a', 'b', 'c');
  const selections = new SelectionCache(1 << 20);
  const Response = envoyProtos().type('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const first = (subscribe: string[]): { sub: DeltaSubscription; bytes: Buffer; nonce: string } => {
    const sub = new DeltaSubscription(TypeUrl.Cluster, selections);
    sub.apply(deltaRequest({ subscribe }));
    const plan = sub.plan(snapshot)!;
    const response = plan.respond(0);
    plan.commit(response.nonce);
    return { sub, bytes: response.bytes, nonce: response.nonce };
  };
  // By name (as EDS and RDS subscribe), one name missing: told once that it does not exist.
  const one = first(['c', 'a', 'zz']);
  const two = first(['a', 'zz', 'c']);
  assert.equal(two.bytes, one.bytes, 'the same names in another order share the bytes');
  const decoded = Response.toObject(Response.decode(one.bytes)) as { resources: { name: string }[]; removed_resources: string[] };
  assert.deepEqual(
    decoded.resources.map((r) => r.name),
    ['a', 'c'],
  );
  assert.deepEqual(decoded.removed_resources, ['zz']);
  assert.notEqual(first(['a']).bytes, one.bytes, 'other names, other bytes');
  // Wildcard: everything, shared.
  const all = first([]);
  assert.equal(first([]).bytes, all.bytes);
  assert.equal((Response.toObject(Response.decode(all.bytes)) as { resources: unknown[] }).resources.length, 3);
  // The ACK: nothing more to send for the same snapshot; a new name is sent.
  assert.equal(one.sub.apply(deltaRequest({ responseNonce: one.nonce }))?.kind, 'ack');
  assert.equal(one.sub.plan(snapshot), undefined);
  one.sub.apply(deltaRequest({ subscribe: ['b'] }));
  assert.equal(one.sub.plan(snapshot)?.resources, 1);
});
