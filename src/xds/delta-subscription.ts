import { TypeSnapshot } from '../cache/snapshot.js';
import { contentHash, type EncodedResource } from '../resource/encoded-resource.js';
import { isFullStateType, type XdsTypeUrl } from '../resource/type-urls.js';
import type { DeltaRequest } from './requests.js';
import { deltaResponse } from './responses.js';
import type { Selection, SelectionCache } from './selection-cache.js';
import type { ReplyOutcome, ResponsePlan, TypeSubscription } from './subscription.js';

const WILDCARD = '*';
/** Marks a name the client was told does not exist (or was removed). */
const ABSENT = '';

/** What a Delta response carries: the resources that changed and the names removed. */
interface Diff {
  readonly changed: readonly EncodedResource[];
  readonly removed: readonly string[];
  readonly contentKey: string;
  /** Computed once for many streams: its response bytes are shared too. */
  readonly shared: boolean;
}

function diff(typeUrl: XdsTypeUrl, changed: readonly EncodedResource[], removed: readonly string[], shared = false): Diff | undefined {
  if (changed.length === 0 && removed.length === 0) return undefined;
  const contentKey = contentHash([typeUrl, ...changed.flatMap((r) => [r.name, r.version]), WILDCARD, ...removed]);
  return { changed, removed, contentKey, shared };
}

/**
 * Wildcard diffs from one snapshot to another, computed once and shared (with their response
 * bytes) by every stream whose client has exactly the first: in a fleet-wide push, that is
 * every Delta node of a group. `null`: nothing to send.
 */
const transitions = new WeakMap<TypeSnapshot, WeakMap<TypeSnapshot, Diff | null>>();

function transition(from: TypeSnapshot, to: TypeSnapshot): Diff | undefined {
  let perTarget = transitions.get(from);
  if (!perTarget) transitions.set(from, (perTarget = new WeakMap()));
  let found = perTarget.get(to);
  if (found === undefined) {
    const changed = to.sorted.filter((r) => from.resources.get(r.name)?.version !== r.version);
    const removed = from.sorted.filter((r) => !to.resources.has(r.name) && !to.pending.has(r.name)).map((r) => r.name);
    found = diff(to.typeUrl, changed, removed.sort(), true) ?? null;
    perTarget.set(to, found);
  }
  return found ?? undefined;
}

/** An empty snapshot per type: where every fresh wildcard stream starts from. */
const nothing = new Map<XdsTypeUrl, TypeSnapshot>();

function emptySnapshot(typeUrl: XdsTypeUrl): TypeSnapshot {
  let empty = nothing.get(typeUrl);
  if (!empty) nothing.set(typeUrl, (empty = new TypeSnapshot(typeUrl, [])));
  return empty;
}

/**
 * First diffs of streams that subscribe by name and have nothing yet, per selection (a snapshot
 * and a list of names): every Delta node of a group asks its group's EDS and RDS names alike, so
 * they share one diff and its response bytes. Held as long as the selection cache keeps the
 * selection, which bounds them.
 */
const firstDiffs = new WeakMap<Selection, Diff | null>();

interface InFlight {
  readonly nonce: string;
  readonly version: string;
  readonly contentKey: string;
}

/**
 * Incremental (delta) subscription to one type. The server tracks the version of every
 * resource the client has and sends only what differs; removals go in removed_resources.
 * Subscription changes are honoured even on a request with a stale nonce.
 */
export class DeltaSubscription implements TypeSubscription<DeltaRequest> {
  #initialized = false;
  #wildcard = false;
  readonly #names = new Set<string>();
  /** What the client has: name -> version, or ABSENT once told it is gone. */
  readonly #clientHas = new Map<string, string>();
  #inFlight: InFlight | undefined;
  /** Set by a first request that listed what the client has, until the first plan. */
  #reconnected = false;
  #inSync: string | undefined;
  /**
   * The snapshot the last plan found nothing to send for, while nothing has changed since:
   * planning again is then a no-op (an ADS stream plans every type on every change).
   */
  #settledFor: TypeSnapshot | undefined;
  /**
   * The snapshot the client has exactly (every resource of it, and nothing else), while the
   * stream is a plain wildcard one: its next diff is then a shared transition.
   */
  #mirrors: TypeSnapshot | undefined;

  constructor(
    readonly typeUrl: XdsTypeUrl,
    /** Shared by the server's streams: fresh streams naming the same resources share their first diff. */
    private readonly selections: SelectionCache,
  ) {}

  get awaitingReply(): boolean {
    return this.#inFlight !== undefined;
  }

  get nameCount(): number {
    return this.#names.size;
  }

  /** Nothing sent yet, and the first request listed no initial_resource_versions. */
  get fresh(): boolean {
    return this.#initialized && this.#clientHas.size === 0 && this.#inFlight === undefined;
  }

  apply(request: DeltaRequest): ReplyOutcome | undefined {
    // An ACK or NACK changes nothing a plan depends on; a change of subscription does.
    if (!this.#initialized || request.subscribe.length > 0 || request.unsubscribe.length > 0) this.#settledFor = undefined;
    const outcome = this.#reply(request);
    if (!this.#initialized || request.subscribe.length > 0 || request.unsubscribe.length > 0) this.#mirrors = undefined;
    if (!this.#initialized) {
      this.#initialized = true;
      this.#wildcard = request.subscribe.length === 0 && isFullStateType(this.typeUrl);
      // A reconnecting client says what it has, so only the differences are sent.
      for (const [name, version] of Object.entries(request.initialResourceVersions)) this.#clientHas.set(name, version);
      this.#reconnected = Object.keys(request.initialResourceVersions).length > 0;
    }
    for (const name of request.subscribe) {
      if (name === WILDCARD) this.#wildcard = true;
      else this.#names.add(name);
    }
    for (const name of request.unsubscribe) {
      if (name === WILDCARD) {
        this.#wildcard = false;
      } else {
        this.#names.delete(name);
        if (!this.#wildcard) this.#clientHas.delete(name);
      }
    }
    return outcome;
  }

  #reply(request: DeltaRequest): ReplyOutcome | undefined {
    if (request.responseNonce === '') return undefined;
    const inFlight = this.#inFlight;
    if (!inFlight || request.responseNonce !== inFlight.nonce) return { kind: 'stale', nonce: request.responseNonce };
    this.#inFlight = undefined;
    return request.errorDetail
      ? { kind: 'nack', version: inFlight.version, nonce: inFlight.nonce, contentKey: inFlight.contentKey, error: request.errorDetail }
      : { kind: 'ack', version: inFlight.version, nonce: inFlight.nonce };
  }

  takeInSync(): string | undefined {
    const version = this.#inSync;
    this.#inSync = undefined;
    return version;
  }

  plan(snapshot: TypeSnapshot): ResponsePlan | undefined {
    if (!this.#initialized || snapshot === this.#settledFor) return undefined;
    const fromNothing = this.#clientHas.size === 0 && this.#inFlight === undefined;
    const from = this.#mirrors ?? (fromNothing && this.#plainWildcard ? emptySnapshot(this.typeUrl) : undefined);
    const planned = from ? transition(from, snapshot) : fromNothing && !this.#wildcard ? this.#firstDiff(snapshot) : this.#diff(snapshot);
    const reconnected = this.#reconnected;
    this.#reconnected = false;
    if (!planned) {
      if (reconnected) this.#inSync = snapshot.version;
      this.#settledFor = snapshot;
      this.#mirrors = this.#plainWildcard ? snapshot : undefined;
      return undefined;
    }
    const { changed, removed, contentKey, shared } = planned;
    return {
      contentKey,
      version: snapshot.version,
      resources: changed.length,
      removed: removed.length,
      respond: (usedUpTo) => deltaResponse(snapshot, changed, removed, usedUpTo, shared ? planned : undefined),
      commit: (nonce) => {
        // Once sent, the client has all of `snapshot` it subscribes to: nothing more to plan for it.
        this.#settledFor = snapshot;
        for (const r of changed) this.#clientHas.set(r.name, r.version);
        for (const name of removed) this.#clientHas.set(name, ABSENT);
        this.#mirrors = this.#plainWildcard ? snapshot : undefined;
        this.#inFlight = { nonce, version: snapshot.version, contentKey };
      },
    };
  }

  /** Wildcard with no names of its own: the client is sent everything and only that. */
  get #plainWildcard(): boolean {
    return this.#wildcard && this.#names.size === 0;
  }

  /** `#diff` for a client that has nothing and names what it wants, shared with others naming the same. */
  #firstDiff(snapshot: TypeSnapshot): Diff | undefined {
    const selection = this.selections.get(snapshot, [...this.#names].sort().join('\0'), this.#names);
    let found = firstDiffs.get(selection);
    if (found === undefined) {
      const missing = [...this.#names].filter((name) => !snapshot.resources.has(name) && !snapshot.pending.has(name)).sort();
      found = diff(snapshot.typeUrl, selection.resources, missing, true) ?? null;
      firstDiffs.set(selection, found);
    }
    return found ?? undefined;
  }

  /** The diff between what this client has and `snapshot`, within its subscription. */
  #diff(snapshot: TypeSnapshot): Diff | undefined {
    const inScope = (name: string): boolean => this.#wildcard || this.#names.has(name);
    const changed = snapshot.sorted.filter((r) => inScope(r.name) && this.#clientHas.get(r.name) !== r.version);
    const removed = new Set<string>();
    // A pending name is not known to be gone: what the client holds of it stays.
    const gone = (name: string): boolean => !snapshot.resources.has(name) && !snapshot.pending.has(name);
    for (const [name, version] of this.#clientHas) {
      if (version !== ABSENT && inScope(name) && gone(name)) removed.add(name);
    }
    // Explicitly subscribed names that do not exist are reported once, so clients need not
    // wait for a timeout to learn it.
    for (const name of this.#names) {
      if (gone(name) && !this.#clientHas.has(name)) removed.add(name);
    }
    return diff(snapshot.typeUrl, changed, [...removed].sort());
  }
}
