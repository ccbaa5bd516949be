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
  /** The sorted names, joined: the key under which selections are shared between streams. */
  #namesKey = '';
  #requestedVersion = '';
  #last: Sent | undefined;
  #awaitingReply = false;
  #inSync: string | undefined;
  /**
   * Set when a request names a resource the previous one did not: the client may not have it
   * (Envoy forgets a RouteConfiguration once no listener uses it), so it is sent even where the
   * content is what this stream sent before.
   */
  #namesAdded = false;

  constructor(readonly typeUrl: XdsTypeUrl) {}

  get awaitingReply(): boolean {
    return this.#awaitingReply;
  }

  get fresh(): boolean {
    return this.#initialized && this.#last === undefined && this.#requestedVersion === '';
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
    const previous = this.#names;
    this.#names = new Set(names.filter((n) => n !== WILDCARD));
    for (const name of this.#names) if (!previous.has(name)) this.#namesAdded = true;
    this.#namesKey = [...this.#names].sort().join('\0');
  }

  plan(snapshot: TypeSnapshot): ResponsePlan | undefined {
    if (!this.#initialized) return undefined;
    if (!this.#wildcard && this.#names.size === 0) return undefined; // subscribed to nothing
    const selection = this.#wildcard ? undefined : selectionOf(snapshot, this.#namesKey, this.#names);
    const resources = selection?.resources;
    const contentKey = selection ? selection.contentKey : snapshot.version;
    if (this.#last?.contentKey === contentKey && !this.#namesAdded) return undefined;
    if (!this.#last && this.#wildcard && this.#requestedVersion === snapshot.version) {
      // A reconnecting client that already has exactly this version needs no response.
      this.#last = { nonce: '', version: snapshot.version, contentKey };
      this.#inSync = snapshot.version;
      this.#namesAdded = false;
      return undefined;
    }
    return {
      contentKey,
      version: snapshot.version,
      resources: resources?.length ?? snapshot.sorted.length,
      removed: 0,
      respond: (usedUpTo) => sotwResponse(snapshot, usedUpTo, resources),
      commit: (nonce) => {
        this.#last = { nonce, version: snapshot.version, contentKey };
        this.#awaitingReply = true;
        this.#namesAdded = false;
      },
    };
  }

  takeInSync(): string | undefined {
    const version = this.#inSync;
    this.#inSync = undefined;
    return version;
  }

}

interface Selection {
  readonly resources: readonly EncodedResource[];
  readonly contentKey: string;
}

/**
 * The subscribed resources that exist, in name order, and their content key: computed once
 * per snapshot and set of names, and shared by every stream that names the same resources
 * (all the nodes of a group do), so the work does not grow with the number of nodes.
 */
const selections = new WeakMap<TypeSnapshot, Map<string, Selection>>();

function selectionOf(snapshot: TypeSnapshot, namesKey: string, names: ReadonlySet<string>): Selection {
  let perNames = selections.get(snapshot);
  if (!perNames) selections.set(snapshot, (perNames = new Map<string, Selection>()));
  let selection = perNames.get(namesKey);
  if (!selection) {
    const resources = [...names]
      .sort()
      .map((name) => snapshot.resources.get(name))
      .filter((r): r is EncodedResource => r !== undefined);
    selection = { resources, contentKey: contentHash([snapshot.typeUrl, ...resources.flatMap((r) => [r.name, r.version])]) };
    perNames.set(namesKey, selection);
  }
  return selection;
}
