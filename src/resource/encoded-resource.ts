import { createHash } from 'node:crypto';
import { lengthDelimited, stringField } from './wire.js';
import type { XdsTypeUrl } from './type-urls.js';

/** google.protobuf.Any: type_url = 1, value = 2. */
const ANY_TYPE_URL = 1;
const ANY_VALUE = 2;
/** envoy.service.discovery.v3.Resource: version = 1, resource = 2, name = 3. */
const RESOURCE_VERSION = 1;
const RESOURCE_ANY = 2;
const RESOURCE_NAME = 3;
/** DiscoveryResponse.resources and DeltaDiscoveryResponse.resources are both field 2. */
const RESPONSE_RESOURCES = 2;

/**
 * One xDS resource, encoded once and shared by every node and stream that receives it.
 * Its version is a hash of its bytes, so the same content always has the same version,
 * across reloads and daemon restarts (Envoy treats any byte change as an update and drains).
 */
export class EncodedResource {
  readonly version: string;
  #sotwField: Buffer | undefined;
  #deltaField: Buffer | undefined;

  constructor(
    readonly typeUrl: XdsTypeUrl,
    readonly name: string,
    /** The serialized resource message (the Any's value). */
    readonly bytes: Uint8Array,
  ) {
    this.version = contentHash([bytes]);
  }

  /** The resource as google.protobuf.Any. */
  get any(): Buffer {
    return Buffer.concat([stringField(ANY_TYPE_URL, this.typeUrl), lengthDelimited(ANY_VALUE, this.bytes)]);
  }

  /** This resource framed as one element of DiscoveryResponse.resources. */
  get sotwField(): Buffer {
    this.#sotwField ??= lengthDelimited(RESPONSE_RESOURCES, this.any);
    return this.#sotwField;
  }

  /** This resource framed as one element of DeltaDiscoveryResponse.resources. */
  get deltaField(): Buffer {
    this.#deltaField ??= lengthDelimited(
      RESPONSE_RESOURCES,
      Buffer.concat([stringField(RESOURCE_VERSION, this.version), lengthDelimited(RESOURCE_ANY, this.any), stringField(RESOURCE_NAME, this.name)]),
    );
    return this.#deltaField;
  }
}

/** A short, stable hash of byte strings (and strings), used for resource and type versions. */
export function contentHash(parts: readonly (Uint8Array | string)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
    hash.update('\0');
  }
  return hash.digest('base64url').slice(0, 16);
}
