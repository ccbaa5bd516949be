import type { TypeSnapshot } from '../cache/snapshot.js';
import type { XdsTypeUrl } from '../resource/type-urls.js';
import type { NackRecord } from './events.js';
import { DEFAULT_XDS_LIMITS, type XdsLimits } from './limits.js';

interface Rejection {
  readonly contentKey: string;
  readonly record: NackRecord;
  /** What the node last accepted of the type before the rejection, where known. */
  readonly accepted: TypeSnapshot | undefined;
  /** What the rejection takes here, counted against the bound. */
  readonly bytes: number;
}

/** A rejection's objects beside its strings. */
const REJECTION_OVERHEAD_BYTES = 256;

/**
 * NACK parking. After a node rejects a response, drainplane sends that node nothing more of
 * that type until what it would send changes: resending a config Envoy rejected only makes it
 * reject it again (the reference Go and Java control planes loop on this).
 *
 * Kept per node id rather than per stream, so a node that reconnects is not sent the rejected
 * content again either. The content key identifies what a response carried (resource names and
 * versions), so a config change, or a subscription that asks for something else, un-parks.
 *
 * A new process of a parked node (Envoy restarted) has nothing at all, and parking would leave
 * it with nothing: it is sent what the node last accepted instead, kept here beside the rejection.
 *
 * Any client can invent node ids and NACK, so what is kept is bounded in bytes (`maxParkedBytes`,
 * messages counted as they were cut by the stream): past it, the nodes that rejected least
 * recently are forgotten first. A forgotten node may be sent its rejected config once more.
 */
export class NackLedger {
  /** Per node, in the order of their latest rejection: the first rejected least recently. */
  readonly #rejections = new Map<string, Map<XdsTypeUrl, Rejection>>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(limits: Pick<XdsLimits, 'maxParkedBytes'> = DEFAULT_XDS_LIMITS) {
    this.#maxBytes = limits.maxParkedBytes;
  }

  /**
   * `accepted`: what the rejecting stream last had ACKed of the type; a stream that had none
   * (a new process rejecting at once) keeps what an earlier rejection knew.
   */
  reject(nodeId: string, contentKey: string, record: NackRecord, accepted: TypeSnapshot | undefined): void {
    let perType = this.#rejections.get(nodeId);
    if (perType) this.#rejections.delete(nodeId);
    else perType = new Map<XdsTypeUrl, Rejection>();
    this.#rejections.set(nodeId, perType);
    const before = perType.get(record.typeUrl);
    if (before) this.#bytes -= before.bytes;
    const bytes = REJECTION_OVERHEAD_BYTES + nodeId.length + contentKey.length + record.message.length + record.version.length;
    perType.set(record.typeUrl, { contentKey, record, accepted: accepted ?? before?.accepted, bytes });
    this.#bytes += bytes;
    this.#forgetOldest(nodeId);
  }

  /** Forgets the nodes that rejected least recently until the rest fits; never `keep`. */
  #forgetOldest(keep: string): void {
    for (const [nodeId, perType] of this.#rejections) {
      if (this.#bytes <= this.#maxBytes || nodeId === keep) break;
      for (const rejection of perType.values()) this.#bytes -= rejection.bytes;
      this.#rejections.delete(nodeId);
    }
  }

  /**
   * The node's rejection in force for the type: the snapshot version it rejected and what it
   * last accepted before, where known.
   */
  rejection(nodeId: string, typeUrl: XdsTypeUrl): { readonly version: string; readonly accepted: TypeSnapshot | undefined } | undefined {
    const found = this.#rejections.get(nodeId)?.get(typeUrl);
    return found && { version: found.record.version, accepted: found.accepted };
  }

  /** True when this exact content was the last thing the node rejected for this type. */
  isParked(nodeId: string, typeUrl: XdsTypeUrl, contentKey: string): boolean {
    return this.#rejections.get(nodeId)?.get(typeUrl)?.contentKey === contentKey;
  }

  /** The node accepted a later response of this type: the rejection is history. */
  accepted(nodeId: string, typeUrl: XdsTypeUrl): void {
    const perType = this.#rejections.get(nodeId);
    const rejection = perType?.get(typeUrl);
    if (!perType || !rejection) return;
    perType.delete(typeUrl);
    this.#bytes -= rejection.bytes;
    if (perType.size === 0) this.#rejections.delete(nodeId);
  }

  /** The rejections in force for a node, one per type at most. */
  rejections(nodeId: string): NackRecord[] {
    return [...(this.#rejections.get(nodeId)?.values() ?? [])].map((r) => r.record);
  }

  /** Bytes the rejections kept take, as counted against the bound. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of (node, type) pairs parked now. */
  get size(): number {
    let n = 0;
    for (const perType of this.#rejections.values()) n += perType.size;
    return n;
  }
}
