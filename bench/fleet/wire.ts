/**
 * The little protobuf and gRPC framing the fleet benchmark needs, written by hand so that the
 * load generator and the transport floor decode only what they read (nonce, version, type URL,
 * resource counts) and never load Envoy's protos.
 *
 * Field numbers (envoy/service/discovery/v3/discovery.proto):
 *   DiscoveryRequest        version_info 1, node 2, resource_names 3, type_url 4, response_nonce 5
 *   DeltaDiscoveryRequest   node 1, type_url 2, subscribe 3, unsubscribe 4, response_nonce 6
 *   DiscoveryResponse       version_info 1, resources 2, type_url 4, nonce 5
 *   DeltaDiscoveryResponse  system_version_info 1, resources 2, type_url 4, nonce 5, removed_resources 6
 *   core.v3.Node            id 1, cluster 2, metadata 3, locality 4, user_agent_name 6, user_agent_version 7
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A length-delimited field: tag, length, payload. */
export function lenField(field: number, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(varint((field << 3) | WIRE_LEN)), Buffer.from(varint(payload.length)), payload]);
}

/** A string field; proto3 leaves empty strings out. */
export function strField(field: number, value: string): Buffer {
  return value === '' ? Buffer.alloc(0) : lenField(field, Buffer.from(value, 'utf8'));
}

/** One gRPC message on the wire: not compressed, 4-byte big-endian length, the bytes. */
export function grpcFrame(parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(5 + length);
  out[0] = 0;
  out.writeUInt32BE(length, 1);
  let offset = 5;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

type Visit = (field: number, buf: Buffer, start: number, end: number) => void;

/** Calls `visit` for every length-delimited field in buf[start, end); other fields are skipped. */
function forEachLenField(buf: Buffer, start: number, end: number, visit: Visit): void {
  let pos = start;
  const readVarint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new Error('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error('varint too long');
  };
  while (pos < end) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case WIRE_VARINT:
        readVarint();
        break;
      case WIRE_I64:
        pos += 8;
        break;
      case WIRE_I32:
        pos += 4;
        break;
      case WIRE_LEN: {
        const length = readVarint();
        if (pos + length > end) throw new Error('truncated field');
        visit(field, buf, pos, pos + length);
        pos += length;
        break;
      }
      default:
        throw new Error(`unsupported wire type ${tag & 7}`);
    }
  }
  if (pos !== end) throw new Error('truncated message');
}

/** What the generator reads of a DiscoveryResponse or DeltaDiscoveryResponse. */
export interface ResponseSummary {
  version: string;
  typeUrl: string;
  nonce: string;
  resources: number;
  /** removed_resources (Delta only). */
  removed: number;
}

/** The two response messages share their field numbers for everything read here. */
export function readResponse(buf: Buffer, delta: boolean): ResponseSummary {
  const out: ResponseSummary = { version: '', typeUrl: '', nonce: '', resources: 0, removed: 0 };
  forEachLenField(buf, 0, buf.length, (field, b, s, e) => {
    if (field === 1) out.version = b.toString('utf8', s, e);
    else if (field === 2) out.resources++;
    else if (field === 4) out.typeUrl = b.toString('utf8', s, e);
    else if (field === 5) out.nonce = b.toString('utf8', s, e);
    else if (field === 6 && delta) out.removed++;
  });
  return out;
}

/** What the transport floor reads of a request: its type, nonce and node.cluster. */
export interface RequestSummary {
  typeUrl: string;
  nonce: string;
  /** node.cluster, or undefined when the request carries no node. */
  cluster: string | undefined;
}

export function readRequest(buf: Buffer, delta: boolean): RequestSummary {
  const F = delta ? { node: 1, typeUrl: 2, nonce: 6 } : { node: 2, typeUrl: 4, nonce: 5 };
  const out: RequestSummary = { typeUrl: '', nonce: '', cluster: undefined };
  forEachLenField(buf, 0, buf.length, (field, b, s, e) => {
    if (field === F.typeUrl) out.typeUrl = b.toString('utf8', s, e);
    else if (field === F.nonce) out.nonce = b.toString('utf8', s, e);
    else if (field === F.node) {
      out.cluster ??= '';
      forEachLenField(b, s, e, (nf, nb, ns, ne) => {
        if (nf === 2) out.cluster = nb.toString('utf8', ns, ne);
      });
    }
  });
  return out;
}

export interface SimNodeIdentity {
  id: string;
  cluster: string;
  metadata: Readonly<Record<string, string>>;
  region: string;
  zone: string;
}

/** An envoy.config.core.v3.Node, as an Envoy of 1.34 would describe itself (minus its extension list). */
export function encodeNode(n: SimNodeIdentity): Buffer {
  // google.protobuf.Struct: fields 1 (map<string, Value>); Value.string_value 3.
  const struct = Buffer.concat(
    Object.entries(n.metadata).map(([key, value]) => lenField(1, Buffer.concat([strField(1, key), lenField(2, strField(3, value))]))),
  );
  return Buffer.concat([
    strField(1, n.id),
    strField(2, n.cluster),
    lenField(3, struct),
    lenField(4, Buffer.concat([strField(1, n.region), strField(2, n.zone)])),
    strField(6, 'envoy'),
    strField(7, '1.34.0'),
  ]);
}

/**
 * Reassembles gRPC messages from HTTP/2 DATA chunks. A message may span chunks and a chunk
 * may hold several messages; a message that fits in one chunk is not copied.
 */
export class GrpcFrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Length of the message whose header was read, or -1 while waiting for a header. */
  #need = -1;

  push(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    // Every pass consumes at least a 5-byte header, so the loop ends with the bytes.
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 5) return;
        const head = this.#take(5);
        if (head[0] !== 0) throw new Error('compressed gRPC messages are not expected');
        this.#need = head.readUInt32BE(1);
      }
      if (this.#buffered < this.#need) return;
      const message = this.#take(this.#need);
      this.#need = -1;
      onMessage(message);
    }
  }

  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first && first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - offset);
      c.copy(out, offset, 0, k);
      offset += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    return out;
  }
}
