/**
 * Message -> bytes with protobufjs's Writer, field by field, because protobufjs's own encode
 * writes map entries in insertion order and writes default-valued scalars that were set explicitly.
 */
import protobuf from 'protobufjs';
import { fieldsByNumber, fieldsOf, isSet, type Fields, type MapField } from './fields.js';
import { toBigInt, toLong } from './int64.js';
import { compareMapKeys, mapKeyValue } from './map-keys.js';

/**
 * Deterministic encoding: same message content => byte-identical output, whatever order its map
 * entries (Struct fields included) were inserted in, and whether or not default-valued proto3
 * scalars were set explicitly. Any payloads are kept as the bytes they hold; messageFromJson
 * produces them with this function, so they are deterministic at any depth.
 */
export function encodeMessage(type: protobuf.Type, message: protobuf.Message): Uint8Array {
  const writer = protobuf.Writer.create();
  writeFields(writer, type, fieldsOf(message));
  return writer.finish();
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

/** Wire types of the scalar types; all but string and bytes may be packed. */
const SCALAR_WIRE_TYPES = new Map<string, number>([
  ['double', FIXED64],
  ['float', FIXED32],
  ['int32', VARINT],
  ['uint32', VARINT],
  ['sint32', VARINT],
  ['fixed32', FIXED32],
  ['sfixed32', FIXED32],
  ['int64', VARINT],
  ['uint64', VARINT],
  ['sint64', VARINT],
  ['fixed64', FIXED64],
  ['sfixed64', FIXED64],
  ['bool', VARINT],
  ['string', LENGTH_DELIMITED],
  ['bytes', LENGTH_DELIMITED],
]);

function writeFields(writer: protobuf.Writer, type: protobuf.Type, message: Fields): void {
  for (const field of fieldsByNumber(type)) {
    // Own properties only: protobufjs keeps defaults on the prototype.
    if (!Object.hasOwn(message, field.name)) continue;
    const value = message[field.name];
    if (!isSet(field, value)) continue;
    if (field instanceof protobuf.MapField) writeMap(writer, field, fieldsOf(value));
    else if (field.repeated) writeRepeated(writer, field, value as unknown[]);
    else writeValue(writer, field.id, field, value);
  }
}

/** Entries in key order, each with both key and value written, as protoc's deterministic mode does. */
function writeMap(writer: protobuf.Writer, field: MapField, entries: Fields): void {
  for (const key of Object.keys(entries).sort(compareMapKeys(field.keyType))) {
    writeTag(writer, field.id, LENGTH_DELIMITED);
    writer.fork();
    writeTag(writer, 1, wireType(field.keyType));
    writeScalar(writer, field.keyType, mapKeyValue(field.keyType, key));
    writeValue(writer, 2, field, entries[key]);
    writer.ldelim();
  }
}

function writeRepeated(writer: protobuf.Writer, field: protobuf.Field, values: readonly unknown[]): void {
  const scalar = scalarTypeOf(field);
  if (scalar !== undefined && scalar !== 'string' && scalar !== 'bytes' && field.packed) {
    writeTag(writer, field.id, LENGTH_DELIMITED);
    writer.fork();
    for (const value of values) writeScalar(writer, scalar, value);
    writer.ldelim();
    return;
  }
  for (const value of values) writeValue(writer, field.id, field, value);
}

function writeValue(writer: protobuf.Writer, id: number, field: protobuf.Field, value: unknown): void {
  const target = field.resolvedType;
  if (target instanceof protobuf.Type) {
    const message = fieldsOf(value ?? {}); // a map entry may hold a message without its value
    if (field.delimited) {
      writeTag(writer, id, START_GROUP);
      writeFields(writer, target, message);
      writeTag(writer, id, END_GROUP);
    } else {
      writeTag(writer, id, LENGTH_DELIMITED);
      writer.fork();
      writeFields(writer, target, message);
      writer.ldelim();
    }
    return;
  }
  const scalar = scalarTypeOf(field) ?? field.type;
  writeTag(writer, id, wireType(scalar));
  writeScalar(writer, scalar, value);
}

/** The scalar type a field's values are written as (enums as int32), or undefined for messages. */
function scalarTypeOf(field: protobuf.Field): string | undefined {
  if (field.resolvedType instanceof protobuf.Enum) return 'int32';
  return field.resolvedType instanceof protobuf.Type ? undefined : field.type;
}

function wireType(scalar: string): number {
  const wire = SCALAR_WIRE_TYPES.get(scalar);
  if (wire === undefined) throw new TypeError(`unsupported field type ${scalar}`);
  return wire;
}

function writeTag(writer: protobuf.Writer, id: number, wire: number): void {
  writer.uint32(((id << 3) | wire) >>> 0);
}

function writeScalar(writer: protobuf.Writer, type: string, value: unknown): void {
  switch (type) {
    case 'double':
      writer.double(value as number);
      break;
    case 'float':
      writer.float(value as number);
      break;
    case 'int32':
      writer.int32(Number(value));
      break;
    case 'uint32':
      writer.uint32(Number(value));
      break;
    case 'sint32':
      writer.sint32(Number(value));
      break;
    case 'fixed32':
      writer.fixed32(Number(value));
      break;
    case 'sfixed32':
      writer.sfixed32(Number(value));
      break;
    case 'int64':
      writer.int64(toLong(toBigInt(value, false), false));
      break;
    case 'uint64':
      writer.uint64(toLong(toBigInt(value, true), true));
      break;
    case 'sint64':
      writer.sint64(toLong(toBigInt(value, false), false));
      break;
    case 'fixed64':
      writer.fixed64(toLong(toBigInt(value, true), true));
      break;
    case 'sfixed64':
      writer.sfixed64(toLong(toBigInt(value, false), false));
      break;
    case 'bool':
      writer.bool(value as boolean);
      break;
    case 'string':
      writer.string(value as string);
      break;
    case 'bytes':
      writer.bytes(value as Uint8Array);
      break;
    default:
      throw new TypeError(`unsupported field type ${type}`);
  }
}
