import type { TypeSnapshot } from '../cache/snapshot.js';
import { isFullStateType, type XdsTypeUrl } from '../resource/type-urls.js';
import type { SotwRequest } from './requests.js';
import { sotwResponse } from './responses.js';
import type { Selection, SelectionCache } from './selection-cache.js';
import type { ReplyOutcome, ResponsePlan, TypeSubscription } from './subscription.js';
import { clip } from './truncate.js';

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
  /** The last request's list as sent: an ACK repeats it, and then nothing needs working out again. */
  #lastList: readonly string[] = [];
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

  /** The selection the last plan used: planning again for the same snapshot and names reuses it. */
  #selection: { readonly snapshot: TypeSnapshot; readonly namesKey: string; readonly selection: Selection } | undefined;

  constructor(
    readonly typeUrl: XdsTypeUrl,
    /** Shared by the server's streams: nodes that name the same resources share one selection. */
    private readonly selections: SelectionCache,
  ) {}

  get awaitingReply(): boolean {
    return this.#awaitingReply;
  }

  get nameCount(): number {
    return this.#names.size;
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
          : { kind: 'ack', version: clip(request.versionInfo, MAX_VERSION_CHARS), nonce: request.responseNonce };
      }
    }
    this.#subscribe(request);
    return outcome;
  }

  #subscribe(request: SotwRequest): void {
    const names = request.resourceNames;
    if (this.#initialized && sameList(names, this.#lastList)) return;
    this.#lastList = names;
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
    const selection = this.#wildcard ? undefined : this.#selectionOf(snapshot);
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

  #selectionOf(snapshot: TypeSnapshot): Selection {
    const last = this.#selection;
    if (last?.snapshot === snapshot && last.namesKey === this.#namesKey) return last.selection;
    const selection = this.selections.get(snapshot, this.#namesKey, this.#names);
    this.#selection = { snapshot, namesKey: this.#namesKey, selection };
    return selection;
  }
}

/** Longest version_info of an ACK kept as the version the node runs: drainplane's are hashes. */
const MAX_VERSION_CHARS = 128;

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
