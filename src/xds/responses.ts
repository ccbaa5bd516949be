import type { TypeSnapshot } from '../cache/snapshot.js';
import type { EncodedResource } from '../resource/encoded-resource.js';
import { stringField } from '../resource/wire.js';

/** DiscoveryResponse: version_info = 1, resources = 2, type_url = 4, nonce = 5. */
const SOTW = { versionInfo: 1, typeUrl: 4, nonce: 5 } as const;
/** DeltaDiscoveryResponse: system_version_info = 1, resources = 2, type_url = 4, nonce = 5, removed_resources = 6. */
const DELTA = { systemVersionInfo: 1, typeUrl: 4, nonce: 5, removedResources: 6 } as const;

/**
 * The body of a response carrying every resource of a type snapshot, built once per
 * snapshot and shared by every wildcard stream: protobuf fields may come in any order, so each
 * stream appends only its own nonce.
 */
const fullBodies = new WeakMap<TypeSnapshot, Buffer>();

function sotwBody(snapshot: TypeSnapshot, resources: readonly EncodedResource[]): Buffer {
  return Buffer.concat([
    stringField(SOTW.versionInfo, snapshot.version),
    ...resources.map((r) => r.sotwField),
    stringField(SOTW.typeUrl, snapshot.typeUrl),
  ]);
}

/** Bodies of named selections, keyed by the (shared) selection array. */
const namedBodies = new WeakMap<readonly EncodedResource[], Buffer>();

/** A serialized DiscoveryResponse: all of `snapshot` when `resources` is omitted. */
export function sotwResponse(snapshot: TypeSnapshot, nonce: string, resources?: readonly EncodedResource[]): Buffer {
  let body: Buffer;
  if (resources) {
    body = namedBodies.get(resources) ?? sotwBody(snapshot, resources);
    namedBodies.set(resources, body);
  } else {
    body = fullBodies.get(snapshot) ?? sotwBody(snapshot, snapshot.sorted);
    fullBodies.set(snapshot, body);
  }
  return Buffer.concat([body, stringField(SOTW.nonce, nonce)]);
}

/** A serialized DeltaDiscoveryResponse. */
export function deltaResponse(
  snapshot: TypeSnapshot,
  nonce: string,
  resources: readonly EncodedResource[],
  removed: readonly string[],
): Buffer {
  return Buffer.concat([
    stringField(DELTA.systemVersionInfo, snapshot.version),
    ...resources.map((r) => r.deltaField),
    stringField(DELTA.typeUrl, snapshot.typeUrl),
    ...removed.map((name) => stringField(DELTA.removedResources, name)),
    stringField(DELTA.nonce, nonce),
  ]);
}
