import type { EncodedResource } from '../resource/encoded-resource.js';
import { messageToJson } from '../resource/json-mapping.js';
import { envoyProtos } from '../resource/protos.js';
import { messageName, TypeUrl, type XdsTypeUrl } from '../resource/type-urls.js';

/**
 * Resources of the configs read lately, by the JSON they were read from (`resourceKey`): a config
 * read again with most of it unchanged (a reload, a change of one listener) maps, encodes and
 * checks only what changed. Reading a resource is a pure function of its JSON (no rule of Envoy's
 * API compares with the time of the check: lt_now, gt_now and within are used by none, which a
 * test holds), and only resources read without an error are kept, so a hit gives what reading
 * it again would. What is kept is bounded by two generations: the config being read and the one
 * read before it.
 */
class CheckedResources {
  #current = new Map<string, EncodedResource>();
  #previous = new Map<string, EncodedResource>();

  /** A new config is being read: what the one before the last used is let go. */
  startConfig(): void {
    this.#previous = this.#current;
    this.#current = new Map();
  }

  /** The resource read before from the JSON of this key, if any (none without a key). */
  get(key: string | undefined): EncodedResource | undefined {
    if (key === undefined) return undefined;
    const known = this.#current.get(key) ?? this.#previous.get(key);
    if (known) this.#current.set(key, known);
    return known;
  }

  /** Keeps a resource read without an error from the JSON of this key (nothing without a key). */
  set(key: string | undefined, resource: EncodedResource): void {
    if (key !== undefined) this.#current.set(key, resource);
  }
}

/**
 * The JSON text of a resource as it was read, where that text tells it from every other value:
 * JSON writes an infinite or NaN number as null and -0 as 0, and a value that is no plain JSON
 * (a date, bytes, a set or map from an explicit YAML tag) as something plain, while the mapping
 * reads each differently (or refuses it). A resource holding one has no key, so it is not kept;
 * neither are secrets (their JSON holds key material read from files).
 */
export function resourceKey(typeUrl: XdsTypeUrl, json: unknown): string | undefined {
  if (typeUrl === TypeUrl.Secret) return undefined;
  let exact = true;
  let text: string;
  try {
    text = JSON.stringify(json, function (this: Record<string, unknown>, key: string, value: unknown) {
      // The value as read, before any toJSON of its own.
      const raw = key === '' ? json : this[key];
      if (typeof raw === 'number' ? !Number.isFinite(raw) || Object.is(raw, -0) : !isPlain(raw)) exact = false;
      return value;
    });
  } catch {
    return undefined; // a bigint, say: not kept, read each time
  }
  return exact ? `${typeUrl}\0${text}` : undefined;
}

function isPlain(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'bigint' && typeof value !== 'function' && typeof value !== 'symbol';
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export const checkedResources = new CheckedResources();

/** Canonical JSON by resource: frozen, as every config that holds the resource shares it. */
const canonicalJson = new WeakMap<EncodedResource, Readonly<Record<string, unknown>>>();

/**
 * A resource as proto3 JSON decoded from its bytes: one spelling of every field, defaults
 * omitted. Worked out once per resource, and frozen all the way down (checks only read it).
 */
export function canonical(resource: EncodedResource): Readonly<Record<string, unknown>> {
  let json = canonicalJson.get(resource);
  if (!json) {
    const protos = envoyProtos();
    json = deepFreeze(messageToJson(protos, protos.type(messageName(resource.typeUrl)), resource.bytes));
    canonicalJson.set(resource, json);
  }
  return json;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
