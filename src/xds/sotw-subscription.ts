import type { TypeSnapshot } from '../cache/snapshot.js';
import { contentHash, type EncodedResource } from '../resource/encoded-resource.js';
import { isFullStateType, type XdsTypeUrl } from '../resource/type-urls.js';
import type { SotwRequest } from './requests.js';
import { sotwResponse } from './responses.js';
import type { ReplyOutcome, ResponsePlan, TypeSubscription } from './subscription.js';

const WILDCARD = '*';

interface Sent {
  readonly nonce: string;
  readonly version: string;
  readonly contentKey: string;
}

/**
 * State-of-the-world subscription to one type. Each request carries the full list of names;
 * each response carries every subscribed resource (for LDS and CDS, a resource left out is
 * removed). Requests with a stale nonce are ignored, as the xDS protocol says.
 */
export class SotwSubscription implements TypeSubscription<SotwRequest> {
  #initialized = false;
  #wildcard = false;
  /** Wildcard by an empty first list (legacy) rather than an explicit "*". */
  #legacyWildcard = false;
  #names = new Set<string>();
  #requestedVersion = '';
  #last: Sent | undefined;
  #awaitingReply = false;
  #inSync: string | undefined;

  constructor(readonly typeUrl: XdsTypeUrl) {}

  get awaitingReply(): boolean {
    return this.#awaitingReply;
  }

  apply(request: SotwRequest): ReplyOutcome | undefined {
    let outcome: ReplyOutcome | undefined;
    if (request.responseNonce !== '') {
      if (request.responseNonce !== this.#last?.nonce) return { kind: 'stale', nonce: request.responseNonce };
      if (this.#awaitingReply) {
        this.#awaitingReply = false;
        outcome = request.errorDetail
          ? {
              kind: 'nack',
              version: this.#last.version,
              nonce: this.#last.nonce,
              contentKey: this.#last.contentKey,
              error: request.errorDetail,
            }
          : { kind: 'ack', version: request.versionInfo, nonce: request.responseNonce };
      }
    }
    this.#subscribe(request);
    return outcome;
  }

  #subscribe(request: SotwRequest): void {
    const names = request.resourceNames;
    const star = names.includes(WILDCARD);
    if (!this.#initialized) {
      this.#initialized = true;
      this.#requestedVersion = request.versionInfo;
      this.#legacyWildcard = names.length === 0 && isFullStateType(this.typeUrl);
      this.#wildcard = star || this.#legacyWildcard;
    } else if (!(this.#legacyWildcard && names.length === 0)) {
      // Once a client names resources, an empty list no longer means wildcard: only "*" does.
      this.#legacyWildcard = false;
      this.#wildcard = star;
    }
    this.#names = new Set(names.filter((n) => n !== WILDCARD));
  }

  plan(snapshot: TypeSnapshot): ResponsePlan | undefined {
    if (!this.#initialized) return undefined;
    if (!this.#wildcard && this.#names.size === 0) return undefined; // subscribed to nothing
    const resources = this.#wildcard ? undefined : this.#selected(snapshot);
    const contentKey = resources
      ? contentHash([snapshot.typeUrl, ...resources.flatMap((r) => [r.name, r.version])])
      : snapshot.version;
    if (this.#last?.contentKey === contentKey) return undefined;
    if (!this.#last && this.#wildcard && this.#requestedVersion === snapshot.version) {
      // A reconnecting client that already has exactly this version needs no response.
      this.#last = { nonce: '', version: snapshot.version, contentKey };
      this.#inSync = snapshot.version;
      return undefined;
    }
    return {
      contentKey,
      version: snapshot.version,
      resources: resources?.length ?? snapshot.sorted.length,
      removed: 0,
      encode: (nonce) => sotwResponse(snapshot, nonce, resources),
      commit: (nonce) => {
        this.#last = { nonce, version: snapshot.version, contentKey };
        this.#awaitingReply = true;
      },
    };
  }

  takeInSync(): string | undefined {
    const version = this.#inSync;
    this.#inSync = undefined;
    return version;
  }

  /** The subscribed resources that exist, in name order. */
  #selected(snapshot: TypeSnapshot): EncodedResource[] {
    return [...this.#names]
      .sort()
      .map((name) => snapshot.resources.get(name))
      .filter((r): r is EncodedResource => r !== undefined);
  }
}
