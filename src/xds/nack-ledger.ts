import type { XdsTypeUrl } from '../resource/type-urls.js';
import type { NackRecord } from './events.js';

interface Rejection {
  readonly contentKey: string;
  readonly record: NackRecord;
}

/**
 * NACK parking. After a node rejects a response, drainplane sends that node nothing more of
 * that type until what it would send changes: resending a config Envoy rejected only makes it
 * reject it again (the reference Go and Java control planes loop on this).
 *
 * Kept per node id rather than per stream, so a node that reconnects is not sent the rejected
 * content again either. The content key identifies what a response carried (resource names and
 * versions), so a config change, or a subscription that asks for something else, un-parks.
 */
export class NackLedger {
  readonly #rejections = new Map<string, Map<XdsTypeUrl, Rejection>>();

  reject(nodeId: string, contentKey: string, record: NackRecord): void {
    let perType = this.#rejections.get(nodeId);
    if (!perType) this.#rejections.set(nodeId, (perType = new Map()));
    perType.set(record.typeUrl, { contentKey, record });
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
