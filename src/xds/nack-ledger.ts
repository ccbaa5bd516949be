import type { TypeSnapshot } from '../cache/snapshot.js';
import type { XdsTypeUrl } from '../resource/type-urls.js';
import type { NackRecord } from './events.js';

interface Rejection {
  readonly contentKey: string;
  readonly record: NackRecord;
  /** What the node last accepted of the type before the rejection, where known. */
  readonly accepted: TypeSnapshot | undefined;
}

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
 */
export class NackLedger {
  readonly #rejections = new Map<string, Map<XdsTypeUrl, Rejection>>();

  /**
   * `accepted`: what the rejecting stream last had ACKed of the type; a stream that had none
   * (a new process rejecting at once) keeps what an earlier rejection knew.
   */
  reject(nodeId: string, contentKey: string, record: NackRecord, accepted: TypeSnapshot | undefined): void {
    let perType = this.#rejections.get(nodeId);
    if (!perType) this.#rejections.set(nodeId, (perType = new Map<XdsTypeUrl, Rejection>()));
    perType.set(record.typeUrl, { contentKey, record, accepted: accepted ?? perType.get(record.typeUrl)?.accepted });
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
    perType?.delete(typeUrl);
    if (perType?.size === 0) this.#rejections.delete(nodeId);
  }

  /** The rejections in force for a node, one per type at most. */
  rejections(nodeId: string): NackRecord[] {
    return [...(this.#rejections.get(nodeId)?.values() ?? [])].map((r) => r.record);
  }

  /** Number of (node, type) pairs parked now. */
  get size(): number {
    let n = 0;
    for (const perType of this.#rejections.values()) n += perType.size;
    return n;
  }
}
