/**
 * Bytes -> canonical proto3 JSON, as Envoy's config_dump prints it. Unlike parsing, which collects
 * every error, printing throws at the first thing JSON cannot express.
 */
import protobuf from 'protobufjs';
import type { ProtoRegistry } from '../protos.js';
import { fieldById, fieldValueById, fieldsOf, fullName, isSet, type Fields, type MapField } from './fields.js';
import { toBigInt } from './int64.js';
import { describe, isJsonObject, setOwn } from './json-values.js';
import { compareMapKeys, decodedMapKey } from './map-keys.js';
import { fieldPath, indexPath, keyPath } from '../paths.js';
import type { Parsed } from './result.js';
import { enumJson, scalarJson } from './scalars.js';
import { wellKnownKind } from './well-known-types.js';
import { formatDuration, formatFieldMask, formatTimestamp } from './well-known-strings.js';

/**
 * Bytes -> canonical proto3 JSON object with the original (snake_case) field names, as Envoy's
 * config_dump prints them: Any expanded with "@type", well-known types in their JSON forms,
 * default-valued scalars omitted, enums by name, 64-bit integers as strings, bytes as base64.
 * Throws when the bytes hold something JSON cannot express (an Any of an unknown type, an
 * out-of-range Duration, ...), or when `type` is written as something other than an object.
 */
export function messageToJson(registry: ProtoRegistry, type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  const json = messageToJsonValue(registry, type, bytes);
  if (!isJsonObject(json)) {
    throw new TypeError(`${fullName(type)} is not written as a JSON object; use messageToJsonValue`);
  }
  return json;
}

/** messageToJson for any message type, including those written as strings, arrays, ... (Duration, ListValue). */
export function messageToJsonValue(registry: ProtoRegistry, type: protobuf.Type, bytes: Uint8Array): unknown {
  return new JsonPrinter(registry).message(type, fieldsOf(type.decode(bytes)), '');
}

class JsonPrinter {
  constructor(private readonly registry: ProtoRegistry) {}

  message(type: protobuf.Type, message: Fields, path: string): unknown {
    const byId = (id: number): unknown => fieldValueById(type, message, id);
    switch (wellKnownKind(type)) {
      case 'any':
        return this.any(type, message, path);
      case 'duration':
        return checked(formatDuration(toBigInt(byId(1), false), Number(byId(2))), path);
      case 'timestamp':
        return checked(formatTimestamp(toBigInt(byId(1), false), Number(byId(2))), path);
      case 'fieldMask':
        return checked(formatFieldMask(byId(1) as string[]), path);
      case 'wrapper':
        return this.singular(fieldById(type, 1), byId(1), path);
      case 'struct':
        return structJson(namesOf(type), message, path);
      case 'list':
        return listJson(namesOf(type), message, path);
      case 'value':
        return valueJson(namesOf(type), message, path);
      case 'empty':
      case undefined:
        return this.fields(type, message, path);
    }
  }

  private fields(type: protobuf.Type, message: Fields, path: string): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    for (const field of type.fieldsArray) {
      // Own properties only: protobufjs keeps defaults on the prototype.
      if (!Object.hasOwn(message, field.name)) continue;
      const value = message[field.name];
      if (isSet(field, value)) json[field.name] = this.fieldValue(field, value, fieldPath(path, field.name));
    }
    return json;
  }

  private fieldValue(field: protobuf.Field, value: unknown, path: string): unknown {
    if (field instanceof protobuf.MapField) return this.map(field, fieldsOf(value), path);
    if (field.repeated) return (value as unknown[]).map((item, i) => this.singular(field, item, indexPath(path, i)));
    return this.singular(field, value, path);
  }

  private singular(field: protobuf.Field, value: unknown, path: string): unknown {
    const target = field.resolvedType;
    if (target instanceof protobuf.Type) return this.message(target, fieldsOf(value ?? target.create()), path);
    if (target instanceof protobuf.Enum) return enumJson(target, Number(value));
    return scalarJson(field.type, value);
  }

  private map(field: MapField, entries: Fields, path: string): Record<string, unknown> {
    const keys = new Map(Object.keys(entries).map((raw) => [decodedMapKey(field.keyType, raw), raw]));
    const json: Record<string, unknown> = {};
    for (const key of [...keys.keys()].sort(compareMapKeys(field.keyType))) {
      setOwn(json, key, this.singular(field, entries[keys.get(key)!], keyPath(path, key)));
    }
    return json;
  }

  private any(type: protobuf.Type, message: Fields, path: string): Record<string, unknown> {
    const typeUrl = String((fieldValueById(type, message, 1) as string | undefined) ?? '');
    const payload = (fieldValueById(type, message, 2) ?? new Uint8Array()) as Uint8Array;
    if (typeUrl === '' && payload.length === 0) return {};
    const inner = this.registry.typeFromUrl(typeUrl);
    if (!inner) return unprintable(path, `an Any holds unknown type ${JSON.stringify(typeUrl)}`);
    const decoded = fieldsOf(inner.decode(payload));
    if (wellKnownKind(inner) !== undefined) {
      return { '@type': typeUrl, value: this.message(inner, decoded, fieldPath(path, 'value')) };
    }
    return { '@type': typeUrl, ...this.fields(inner, decoded, path) };
  }
}

/*
 * google.protobuf.Struct, Value and ListValue, walked directly over the decoded objects rather
 * than through the reflection the other messages take: node metadata is a Struct, and every
 * connecting Envoy's is printed once, so this is on the path of a fleet's connect storm. Same
 * output: object keys sorted (as map keys are), a Value with no kind or a number JSON cannot
 * hold refused. Field names are read from the types (protobufjs's bundled copies of these are
 * camelCased, protoc's are not).
 */
type Decoded = Record<string, unknown>;

/** The field names of Struct, ListValue and Value (by field number, 1 to 6), as loaded. */
interface StructNames {
  readonly fields: string;
  readonly values: string;
  readonly kinds: readonly string[];
}

const structNames = new WeakMap<protobuf.Type, StructNames>();

/** `type` is any of Struct, ListValue and Value: they name each other. */
function namesOf(type: protobuf.Type): StructNames {
  let names = structNames.get(type);
  if (names) return names;
  const kind = wellKnownKind(type);
  const value = kind === 'value' ? type : (fieldById(type, 1).resolve().resolvedType as protobuf.Type);
  const struct = fieldById(value, 5).resolve().resolvedType as protobuf.Type;
  const list = fieldById(value, 6).resolve().resolvedType as protobuf.Type;
  names = {
    fields: fieldById(struct, 1).name,
    values: fieldById(list, 1).name,
    kinds: [1, 2, 3, 4, 5, 6].map((id) => fieldById(value, id).name),
  };
  for (const t of [value, struct, list]) structNames.set(t, names);
  return names;
}

function structJson(names: StructNames, struct: Decoded, path: string): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  const fields = struct[names.fields] as Record<string, Decoded> | null | undefined;
  if (!fields) return json;
  for (const key of Object.keys(fields).sort(compareMapKeys('string'))) {
    setOwn(json, key, valueJson(names, fields[key]!, path, key));
  }
  return json;
}

function listJson(names: StructNames, list: Decoded, path: string): unknown[] {
  const values = (list[names.values] as Decoded[] | null | undefined) ?? [];
  return values.map((value, i) => valueJson(names, value, indexPath(path, i)));
}

/** `key`: the Value is that entry of a Struct at `path` (its path is only built when needed). */
function valueJson(names: StructNames, value: Decoded, path: string, key?: string): unknown {
  const at = (): string => (key === undefined ? path : keyPath(path, key));
  // In field order, as a Value with more than one kind on the wire was always read.
  const kind = names.kinds.findIndex((name) => Object.hasOwn(value, name) && value[name] != null);
  const set = value[names.kinds[kind] ?? ''];
  switch (kind + 1) {
    case 1:
      return null;
    case 2:
      return Number.isFinite(set) ? set : unprintable(at(), `a JSON value cannot hold ${describe(set)}`);
    case 3:
    case 4:
      return set;
    case 5:
      return structJson(names, set as Decoded, at());
    case 6:
      return listJson(names, set as Decoded, at());
    default:
      return unprintable(at(), 'a google.protobuf.Value has no kind set');
  }
}

function checked<T>(parsed: Parsed<T>, path: string): T {
  return 'error' in parsed ? unprintable(path, parsed.error) : parsed.value;
}

function unprintable(path: string, message: string): never {
  throw new Error(`cannot write ${path === '' ? 'the message' : path} as JSON: ${message}`);
}
