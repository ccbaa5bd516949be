/**
 * Reading a message's fields: by the names JSON may use, by number, and whether a value counts
 * as set. Presence is decided here once so that parsing, encoding and printing agree on it.
 */
import protobuf from 'protobufjs';
import { isLong } from './int64.js';
import { describe } from './json-values.js';

/** A message's fields by name: how protobufjs messages (and plain objects of the same shape) are read. */
export type Fields = Record<string, unknown>;
/** Field values by field number, for well-known types whose field names protobufjs may have camelCased. */
export type FieldValues = ReadonlyArray<readonly [id: number, value: unknown]>;
/** A map field as reached from a message's fields: MapField extends Field at runtime, though not in the typings. */
export type MapField = protobuf.Field & protobuf.MapField;

export function fullName(object: protobuf.ReflectionObject): string {
  return object.fullName.replace(/^\./, '');
}

export function fieldsOf(message: unknown): Fields {
  if (typeof message !== 'object' || message === null) {
    throw new TypeError(`expected a message, got ${describe(message)}`);
  }
  return message as Fields;
}

const byJsonKey = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();
const byNumber = new WeakMap<protobuf.Type, protobuf.Field[]>();

/** The fields of `type` under every name JSON may use for them: the proto name and the JSON name. */
export function jsonKeys(type: protobuf.Type): Map<string, protobuf.Field> {
  let keys = byJsonKey.get(type);
  if (!keys) {
    keys = new Map();
    for (const field of type.fieldsArray) {
      keys.set(field.name, field);
      keys.set(jsonName(field), field);
    }
    byJsonKey.set(type, keys);
  }
  return keys;
}

function jsonName(field: protobuf.Field): string {
  const explicit: unknown = field.options?.['json_name'];
  return typeof explicit === 'string' ? explicit : lowerCamel(field.name);
}

/** protoc's rule: drop each underscore and upper-case the character after it. */
function lowerCamel(name: string): string {
  let out = '';
  let upper = false;
  for (const c of name) {
    if (c === '_') {
      upper = true;
    } else {
      out += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}

/** A field whose name differs from `key` only in case, underscores or dashes (`statPrefx` is no match). */
export function lookalike(type: protobuf.Type, key: string): string | undefined {
  const loose = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');
  const wanted = loose(key);
  return type.fieldsArray.find((field) => loose(field.name) === wanted)?.name;
}

/** Fields in number order, the order a deterministic encoding writes them in. */
export function fieldsByNumber(type: protobuf.Type): protobuf.Field[] {
  let fields = byNumber.get(type);
  if (!fields) {
    fields = [...type.fieldsArray].sort((a, b) => a.id - b.id);
    byNumber.set(type, fields);
  }
  return fields;
}

export function fieldById(type: protobuf.Type, id: number): protobuf.Field {
  const field = type.fieldsById[id];
  if (!field) throw new Error(`${fullName(type)} has no field number ${id}`);
  return field;
}

export function fieldValueById(type: protobuf.Type, message: Fields, id: number): unknown {
  return message[fieldById(type, id).name];
}

export function messageTypeOf(field: protobuf.Field): protobuf.Type {
  if (!(field.resolvedType instanceof protobuf.Type)) throw new Error(`${field.fullName} is not a message field`);
  return field.resolvedType;
}

/**
 * Whether a singular field is written and printed even when it holds its default: message
 * fields, oneof members, proto3 `optional` fields and proto2 fields. Plain proto3 scalars are not.
 */
function tracksPresence(field: protobuf.Field): boolean {
  return field.resolvedType instanceof protobuf.Type || field.partOf !== null || field.hasPresence;
}

/**
 * Whether a value counts as set: the one rule shared by parsing, encoding and printing, so that
 * a default-valued proto3 scalar is neither written nor printed whether or not it was given.
 */
export function isSet(field: protobuf.Field, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (field.map) return Object.keys(value).length > 0;
  if (field.repeated) return (value as unknown[]).length > 0;
  return tracksPresence(field) || !isZero(value);
}

function isZero(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
      return Object.is(value, 0); // -0.0 is not the default: proto3 compares the bits
    case 'boolean':
      return !value;
    case 'string':
      return value === '';
    case 'bigint':
      return value === 0n;
    default:
      if (value instanceof Uint8Array || Array.isArray(value)) return value.length === 0;
      return isLong(value) && value.low === 0 && value.high === 0;
  }
}

/** A message built from values by field number, leaving out what isSet says is unset. */
export function build(type: protobuf.Type, values: FieldValues): protobuf.Message {
  const props: Fields = {};
  for (const [id, value] of values) {
    const field = fieldById(type, id);
    if (isSet(field, value)) props[field.name] = value;
  }
  return type.create(props);
}
