/**
 * Encodes proto3 JSON (as written in Envoy YAML) to protobuf bytes with protobufjs, for test
 * helpers that must put resources on the wire.
 *
 * protobufjs's fromObject understands enum names, int64 strings, base64 bytes and "@type" on
 * Any, but not the JSON forms of the other well-known types: a Struct given as a plain object,
 * a Duration given as "1.5s" or a wrapper given as a bare scalar would be silently mangled.
 * This walks the message schema and rewrites those into the shapes fromObject expects.
 */
import protobuf from 'protobufjs';
import type { ProtoRegistry } from '../../src/resource/protos.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const WRAPPERS = new Set(
  ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map(
    (t) => `.google.protobuf.${t}Value`,
  ),
);

/** Types whose JSON form is not an object of fields; packed in an Any they sit under "value". */
const SPECIAL_JSON = new Set([
  ...WRAPPERS,
  '.google.protobuf.Struct',
  '.google.protobuf.Value',
  '.google.protobuf.ListValue',
  '.google.protobuf.Duration',
  '.google.protobuf.Timestamp',
  '.google.protobuf.FieldMask',
]);

/** The wire encoding of `json`, a proto3 JSON value of the message type `typeName`. */
export function encodeProto3Json(registry: ProtoRegistry, typeName: string, json: unknown): Uint8Array {
  const type = registry.type(typeName);
  return encode(registry, type, json as Json, typeName);
}

function encode(registry: ProtoRegistry, type: protobuf.Type, json: Json, path: string): Uint8Array {
  return type.encode(type.fromObject(message(registry, type, json, path) as Record<string, unknown>)).finish();
}

/** `json` rewritten into what `type.fromObject` accepts. */
function message(registry: ProtoRegistry, type: protobuf.Type, json: Json, path: string): unknown {
  const name = type.fullName;
  if (WRAPPERS.has(name)) return { value: json };
  switch (name) {
    case '.google.protobuf.Struct':
      return struct(type, json, path);
    case '.google.protobuf.Value':
      return value(type, json, path);
    case '.google.protobuf.ListValue':
      return listValue(type, json, path);
    case '.google.protobuf.Duration':
      return duration(json, path);
    case '.google.protobuf.Any':
      return any(registry, json, path);
    case '.google.protobuf.Timestamp':
    case '.google.protobuf.FieldMask':
      throw new Error(`${path}: the JSON form of ${name.slice(1)} is not supported here`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(object(json, path))) {
    const f = fieldFor(type, key);
    if (!f) throw new Error(`${path}: ${type.fullName.slice(1)} has no field ${key}`);
    const sub = `${path}.${key}`;
    const elementType = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    const convert = (x: Json, p: string): unknown => (elementType ? message(registry, elementType, x, p) : x);
    if (f instanceof protobuf.MapField) {
      out[f.name] = Object.fromEntries(Object.entries(object(v, sub)).map(([k, x]) => [k, convert(x, `${sub}.${k}`)]));
    } else if (f.repeated) {
      out[f.name] = array(v, sub).map((x, i) => convert(x, `${sub}[${i}]`));
    } else {
      out[f.name] = convert(v, sub);
    }
  }
  return out;
}

/**
 * The field `key` names: proto3 JSON accepts both the .proto name and its lowerCamelCase form.
 * Matching on the camelCase form also finds the fields of the well-known types protobufjs bundles,
 * which it declares in camelCase whatever the keepCase option says.
 */
function fieldFor(type: protobuf.Type, key: string): protobuf.Field | undefined {
  const camel = protobuf.util.camelCase(key);
  return type.fields[key] ?? type.fieldsArray.find((f) => protobuf.util.camelCase(f.name) === camel);
}

function field(type: protobuf.Type, key: string): protobuf.Field {
  const f = fieldFor(type, key);
  if (!f) throw new Error(`${type.fullName.slice(1)} has no field ${key}`);
  return f;
}

function messageType(f: protobuf.Field): protobuf.Type {
  if (!(f.resolvedType instanceof protobuf.Type)) throw new Error(`${f.fullName} is not a message field`);
  return f.resolvedType;
}

function any(registry: ProtoRegistry, json: Json, path: string): unknown {
  const { '@type': typeUrl, ...rest } = object(json, path);
  if (typeof typeUrl !== 'string') throw new Error(`${path}: Any without "@type"`);
  const packed = registry.typeFromUrl(typeUrl);
  if (!packed) throw new Error(`${path}: unknown type ${typeUrl}`);
  const body = SPECIAL_JSON.has(packed.fullName) ? (rest.value ?? null) : rest;
  return { type_url: typeUrl, value: encode(registry, packed, body, `${path}<${packed.fullName.slice(1)}>`) };
}

function struct(type: protobuf.Type, json: Json, path: string): unknown {
  const fields = field(type, 'fields');
  const valueType = messageType(fields);
  const entries = Object.entries(object(json, path)).map(([k, v]) => [k, value(valueType, v, `${path}.${k}`)]);
  return { [fields.name]: Object.fromEntries(entries) };
}

function listValue(type: protobuf.Type, json: Json, path: string): unknown {
  const values = field(type, 'values');
  const valueType = messageType(values);
  return { [values.name]: array(json, path).map((v, i) => value(valueType, v, `${path}[${i}]`)) };
}

function value(type: protobuf.Type, json: Json, path: string): unknown {
  const set = (key: string, v: unknown): unknown => ({ [field(type, key).name]: v });
  if (json === null) return set('null_value', 'NULL_VALUE');
  if (Array.isArray(json)) return set('list_value', listValue(messageType(field(type, 'list_value')), json, path));
  switch (typeof json) {
    case 'boolean':
      return set('bool_value', json);
    case 'number':
      return set('number_value', json);
    case 'string':
      return set('string_value', json);
    default:
      return set('struct_value', struct(messageType(field(type, 'struct_value')), json, path));
  }
}

function duration(json: Json, path: string): unknown {
  const m = typeof json === 'string' ? /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(json) : null;
  if (!m) throw new Error(`${path}: expected a duration like "1.5s", got ${JSON.stringify(json)}`);
  const sign = m[1] === '-' ? -1 : 1;
  return { seconds: sign * Number(m[2]), nanos: sign * Number((m[3] ?? '').padEnd(9, '0')) };
}

function object(json: Json, path: string): Record<string, Json> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`${path}: expected an object, got ${JSON.stringify(json)}`);
  }
  return json;
}

function array(json: Json, path: string): Json[] {
  if (!Array.isArray(json)) throw new Error(`${path}: expected an array, got ${JSON.stringify(json)}`);
  return json;
}
