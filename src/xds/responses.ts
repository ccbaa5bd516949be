import { randomFillSync } from 'node:crypto';
import type { TypeSnapshot } from '../cache/snapshot.js';
import type { EncodedResource } from '../resource/encoded-resource.js';
import { stringField } from '../resource/wire.js';

/** DiscoveryResponse: version_info = 1, resources = 2, type_url = 4, nonce = 5. */
const SOTW = { versionInfo: 1, typeUrl: 4, nonce: 5 } as const;
/** DeltaDiscoveryResponse: system_version_info = 1, resources = 2, type_url = 4, nonce = 5, removed_resources = 6. */
const DELTA = { systemVersionInfo: 1, typeUrl: 4, nonce: 5, removedResources: 6 } as const;

/** A serialized response and the nonce it carries. */
export interface Response {
  /** The nonce's place in the server-wide sequence it is drawn from. */
  readonly seq: number;
  readonly nonce: string;
  readonly bytes: Buffer;
}

/**
 * Nonces have a place in one sequence for the whole server. A stream only needs its own nonces
 * to be unique, and a stream never uses a nonce whose place is lower than one it used before
 * (see `sotwResponse`), so streams can share a response, nonce included, and send the same bytes.
 */
let lastSeq = 0;

/** Random bytes per nonce: 96 bits, 16 characters of base64url. */
const NONCE_BYTES = 12;
/** Random bytes drawn at once, so a nonce costs a slice rather than a call into the CSPRNG. */
const pool = Buffer.alloc(NONCE_BYTES * 512);
let poolOffset = pool.length;

/**
 * A nonce no client can guess: an ACK names the response it answers by its nonce, so a node
 * that could guess the next one could ACK responses it never read and have more sent.
 */
function randomNonce(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const nonce = pool.toString('base64url', poolOffset, poolOffset + NONCE_BYTES);
  poolOffset += NONCE_BYTES;
  return nonce;
}

/** `body` (a response without its nonce) with a nonce of its own. */
function withNonce(body: Buffer, nonceField: number): Response {
  const seq = ++lastSeq;
  const nonce = randomNonce();
  return { seq, nonce, bytes: Buffer.concat([body, stringField(nonceField, nonce)]) };
}

interface Shared {
  readonly body: Buffer;
  latest: Response;
}

/**
 * Responses shared between streams, keyed by what determines their content: a type snapshot
 * (SotW wildcard), a selection of it (SotW by name) or a transition between two snapshots
 * (Delta wildcard).
 */
const shared = new WeakMap<object, Shared>();

/**
 * The response `key` stands for, for a stream whose nonces so far are all at most `usedUpTo`.
 * Every stream that sends the same content gets the same bytes, built once, unless it already
 * used their nonce: then the content gets a new nonce, which later streams share in turn.
 */
function sharedResponse(key: object, usedUpTo: number, nonceField: number, body: () => Buffer): Response {
  let entry = shared.get(key);
  if (!entry) {
    const built = body();
    entry = { body: built, latest: withNonce(built, nonceField) };
    shared.set(key, entry);
  } else if (entry.latest.seq <= usedUpTo) {
    entry.latest = withNonce(entry.body, nonceField);
  }
  return entry.latest;
}

/** A serialized DiscoveryResponse with all of `snapshot`, or the named selection `resources` of it. */
export function sotwResponse(snapshot: TypeSnapshot, usedUpTo: number, resources?: readonly EncodedResource[]): Response {
  return sharedResponse(resources ?? snapshot, usedUpTo, SOTW.nonce, () =>
    Buffer.concat([
      stringField(SOTW.versionInfo, snapshot.version),
      ...(resources ?? snapshot.sorted).map((r) => r.sotwField),
      stringField(SOTW.typeUrl, snapshot.typeUrl),
    ]),
  );
}

/**
 * A serialized DeltaDiscoveryResponse. With `shareAs`, an object that stands for exactly this
 * content (a transition every wildcard stream makes alike), streams share it as SotW ones do.
 */
export function deltaResponse(
  snapshot: TypeSnapshot,
  resources: readonly EncodedResource[],
  removed: readonly string[],
  usedUpTo: number,
  shareAs?: object,
): Response {
  const body = (): Buffer =>
    Buffer.concat([
      stringField(DELTA.systemVersionInfo, snapshot.version),
      ...resources.map((r) => r.deltaField),
      stringField(DELTA.typeUrl, snapshot.typeUrl),
      ...removed.map((name) => stringField(DELTA.removedResources, name)),
    ]);
  return shareAs ? sharedResponse(shareAs, usedUpTo, DELTA.nonce, body) : withNonce(body(), DELTA.nonce);
}
