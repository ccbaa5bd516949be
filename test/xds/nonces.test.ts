/**
 * Nonces cannot be guessed: an ACK names the response it answers by its nonce, so a client that
 * could work out the nonce of a response it never read could ACK it and have more sent.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TypeSnapshot } from '../../src/cache/snapshot.js';
import { EncodedResource } from '../../src/resource/encoded-resource.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { combineEvents } from '../../src/xds/events.js';
import { sotwResponse } from '../../src/xds/responses.js';
import { XdsServer } from '../../src/xds/server.js';
import { openSotwStream, TYPE, type SotwStream } from '../support/ads-client.js';
import { desiredStateOf } from '../support/desired-state.js';
import { demoGroup } from '../support/fleet-configs.js';
import { waitUntil } from '../support/wait.js';

let server: XdsServer;
let address: string;
const acked: string[] = [];
const ignored: string[] = [];
const streams: SotwStream[] = [];

before(async () => {
  // Two groups: their nodes are sent different listeners, so no response (and no nonce) is shared.
  const { cache, desired } = desiredStateOf(
    `groups:${demoGroup({ name: 'a', cluster: 'a' })}${demoGroup({ name: 'b', cluster: 'b', listenerTag: 'b' })}`,
  );
  server = new XdsServer({
    watcher: cache,
    events: combineEvents(desired.events, {
      acked: (s, _type, _version, nonce) => acked.push(`${s.node.id} ${nonce}`),
      requestIgnored: (s, reason) => ignored.push(`${s?.node.id} ${reason}`),
    }),
  });
  address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
});
after(async () => {
  for (const s of streams) s.close();
  await server.close(500);
});

test('a node cannot ACK a response it did not read by working its nonce out from one it read', { timeout: 20_000 }, async () => {
  const reader = openSotwStream(address, { service: 'lds', node: { id: 'reader', cluster: 'a' } });
  streams.push(reader);
  reader.send({});
  const seen = (await reader.next(TYPE.LDS)).nonce;

  // The next response the server builds goes to another stream, of another group.
  const victim = openSotwStream(address, { service: 'lds', node: { id: 'victim', cluster: 'b' } });
  streams.push(victim);
  victim.send({});
  const sent = await victim.next(TYPE.LDS);

  // Guesses from the nonce seen: its successors and neighbours, read as numbers in base 36 and 10.
  const guesses = new Set<string>();
  for (const radix of [36, 10]) {
    const n = parseInt(seen, radix);
    if (Number.isNaN(n)) continue;
    for (let d = -20; d <= 20; d++) if (d !== 0) guesses.add((n + d).toString(radix));
  }
  guesses.delete(seen);
  for (const guess of guesses) victim.send({ version_info: sent.version_info, response_nonce: guess });
  const handled = (): number => ignored.filter((r) => r.startsWith('victim stale nonce')).length + acked.filter((a) => a.startsWith('victim')).length;
  await waitUntil('every guess to be handled', () => handled() === guesses.size);
  assert.deepEqual(
    acked.filter((a) => a.startsWith('victim')),
    [],
    'no guess was taken as an ACK',
  );
  assert.ok(!guesses.has(sent.nonce), `the nonce "${sent.nonce}" was one of the guesses from "${seen}"`);
});

test('nonces are short strings of at least 96 random bits, and never repeat', () => {
  const snapshot = new TypeSnapshot(TypeUrl.Cluster, [new EncodedResource(TypeUrl.Cluster, 'c', new Uint8Array([10, 1, 99]))]);
  const nonces = new Set<string>();
  let usedUpTo = 0;
  for (let i = 0; i < 2000; i++) {
    const response = sotwResponse(snapshot, usedUpTo);
    usedUpTo = response.seq;
    assert.match(response.nonce, /^[A-Za-z0-9_-]{16,32}$/, 'base64url, 16 characters (96 bits) or a few more');
    nonces.add(response.nonce);
  }
  assert.equal(nonces.size, 2000);
  // Random, not counted: the nonces share no long common prefix.
  const [first, second] = [...nonces];
  assert.notEqual(first!.slice(0, 8), second!.slice(0, 8));
});
