/**
 * Minimal protobuf wire-format writers, for assembling discovery responses out of resource
 * bytes that were encoded once and are shared by every stream that sends them.
 */

const WIRE_LEN = 2;

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** A length-delimited field: tag, length, payload. */
export function lengthDelimited(fieldNumber: number, payload: Uint8Array): Buffer {
  return Buffer.concat([varint((fieldNumber << 3) | WIRE_LEN), varint(payload.length), payload]);
}

/** A string field; proto3 omits empty strings. */
export function stringField(fieldNumber: number, value: string): Buffer {
  return value === '' ? Buffer.alloc(0) : lengthDelimited(fieldNumber, Buffer.from(value, 'utf8'));
}
