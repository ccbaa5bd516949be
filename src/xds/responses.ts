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
 * Nonces come from one sequence for the whole server. A stream only needs its own nonces to
 * be unique, and a stream never uses a nonce lower than one it used before (see `sotwResponse`),
 * so streams can share a response, nonce included, and send the same bytes.
 */
let lastSeq = 0;

/** `body` (a response without its nonce) with a nonce of its own. */
function withNonce(body: Buffer, nonceField: number): Response {
  const seq = ++lastSeq;
  const nonce = seq.toString(36);
  return { seq, nonce, bytes: Buffer.concat([body, stringField(nonceField, nonce)]) };
}

interface Shared {
  readonly body: Buffer;
  latest: Response;
}

/** Responses carrying every resource of a type snapshot, shared by every wildcard stream. */
const fullResponses = new WeakMap<TypeSnapshot, Shared>();
/** Responses of named selections, keyed by the (shared) selection array. */
const namedResponses = new WeakMap<readonly EncodedResource[], Shared>();

function sotwBody(snapshot: TypeSnapshot, resources: readonly EncodedResource[]): Buffer {
  return Buffer.concat([
    stringField(SOTW.versionInfo, snapshot.version),
    ...resources.map((r) => r.sotwField),
    stringField(SOTW.typeUrl, snapshot.typeUrl),
  ]);
}

/**
 * A serialized DiscoveryResponse with all of `snapshot` (or `resources`) for a stream whose
 * nonces so far are all at most `usedUpTo`. Every stream that sends the same content gets the
 * same bytes, built once, unless it already used their nonce: then the content gets a new
 * nonce, which later streams share in turn.
 */
export function sotwResponse(snapshot: TypeSnapshot, usedUpTo: number, resources?: readonly EncodedResource[]): Response {
  let shared = resources ? namedResponses.get(resources) : fullResponses.get(snapshot);
  if (!shared) {
    const body = sotwBody(snapshot, resources ?? snapshot.sorted);
    shared = { body, latest: withNonce(body, SOTW.nonce) };
    if (resources) namedResponses.set(resources, shared);
    else fullResponses.set(snapshot, shared);
  } else if (shared.latest.seq <= usedUpTo) {
    shared.latest = withNonce(shared.body, SOTW.nonce);
  }
  return shared.latest;
}

/** A serialized DeltaDiscoveryResponse (each stream's differs: it carries what that client lacks). */
export function deltaResponse(
  snapshot: TypeSnapshot,
  resources: readonly EncodedResource[],
  removed: readonly string[],
): Response {
  const body = Buffer.concat([
    stringField(DELTA.systemVersionInfo, snapshot.version),
    ...resources.map((r) => r.deltaField),
    stringField(DELTA.typeUrl, snapshot.typeUrl),
    ...removed.map((name) => stringField(DELTA.removedResources, name)),
  ]);
  return withNonce(body, DELTA.nonce);
}
