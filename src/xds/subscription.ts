import type { TypeSnapshot } from '../cache/snapshot.js';
import type { Response } from './responses.js';
import type { ErrorDetail } from './requests.js';

/** What a request said about the last response of its type. */
export type ReplyOutcome =
  | { readonly kind: 'ack'; readonly version: string; readonly nonce: string }
  | {
      readonly kind: 'nack';
      /** The version the node rejected (not the version_info it sent, which is its last good one). */
      readonly version: string;
      readonly nonce: string;
      readonly contentKey: string;
      readonly error: ErrorDetail;
    }
  | { readonly kind: 'stale'; readonly nonce: string };

/** A response a subscription would send now; nothing changes until `commit`. */
export interface ResponsePlan {
  /** Identifies the content (resource names and versions) for NACK parking. */
  readonly contentKey: string;
  readonly version: string;
  readonly resources: number;
  readonly removed: number;
  /** The serialized response, for a stream whose nonces so far are all at most `usedUpTo`. */
  respond(usedUpTo: number): Response;
  /** Records that the response went out with this nonce. */
  commit(nonce: string): void;
}

/**
 * One resource type's state within one stream: what the client subscribed to, what it was
 * sent, and whether a response awaits its ACK. SotW and Delta each implement it; the stream
 * driver is the same for both.
 */
export interface TypeSubscription<Req> {
  /** True while a response waits for its ACK or NACK: nothing more is sent until then. */
  readonly awaitingReply: boolean;
  /**
   * True while the client has nothing of this type: a new client process (its first request
   * claimed no version) that this stream has sent nothing of the type yet.
   */
  readonly fresh: boolean;
  /** Resource names the client is subscribed to by name now, over all its requests of the type. */
  readonly nameCount: number;
  /** Applies a request of this type: subscription changes, and an ACK or NACK if it is one. */
  apply(request: Req): ReplyOutcome | undefined;
  /** The response that would bring the client up to date with `snapshot`, if any. */
  plan(snapshot: TypeSnapshot): ResponsePlan | undefined;
  /**
   * Once, after a plan found that a reconnecting client already has exactly the snapshot's
   * content (it said so in its first request): that version. The client is as good as ACKed.
   */
  takeInSync(): string | undefined;
}
