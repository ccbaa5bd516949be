/**
 * The well-known types with a special JSON form. Inside an Any they go under "value" rather than
 * beside "@type", so both directions need to know which types these are.
 */
import type protobuf from 'protobufjs';
import { fullName } from './fields.js';

type WellKnownKind = 'any' | 'duration' | 'timestamp' | 'wrapper' | 'struct' | 'value' | 'list' | 'fieldMask' | 'empty';

const WELL_KNOWN = new Map<string, WellKnownKind>([
  ['google.protobuf.Any', 'any'],
  ['google.protobuf.Duration', 'duration'],
  ['google.protobuf.Timestamp', 'timestamp'],
  ['google.protobuf.DoubleValue', 'wrapper'],
  ['google.protobuf.FloatValue', 'wrapper'],
  ['google.protobuf.Int64Value', 'wrapper'],
  ['google.protobuf.UInt64Value', 'wrapper'],
  ['google.protobuf.Int32Value', 'wrapper'],
  ['google.protobuf.UInt32Value', 'wrapper'],
  ['google.protobuf.BoolValue', 'wrapper'],
  ['google.protobuf.StringValue', 'wrapper'],
  ['google.protobuf.BytesValue', 'wrapper'],
  ['google.protobuf.Struct', 'struct'],
  ['google.protobuf.Value', 'value'],
  ['google.protobuf.ListValue', 'list'],
  ['google.protobuf.FieldMask', 'fieldMask'],
  ['google.protobuf.Empty', 'empty'],
]);

/** Which special JSON form `type` has, or undefined for an ordinary message. */
export function wellKnownKind(type: protobuf.Type): WellKnownKind | undefined {
  return WELL_KNOWN.get(fullName(type));
}

/** The enum whose only value is JSON's null. */
export const NULL_VALUE = 'google.protobuf.NullValue';
