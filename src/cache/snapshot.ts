import { contentHash, type EncodedResource } from '../resource/encoded-resource.js';
import { PUSH_ORDER, type XdsTypeUrl } from '../resource/type-urls.js';

/**
 * The desired resources of one type for a node: immutable, with a version that is a hash of
 * the resources' names and bytes. Nodes that want the same resources share one TypeSnapshot,
 * and so share the response bytes built from it.
 */
export class TypeSnapshot {
  readonly version: string;
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /** Sorted by name: responses list resources in a stable order. */
  readonly sorted: readonly EncodedResource[];

  /**
   * Names that exist but whose content is not known yet (a source still being read): neither
   * sent nor reported removed, so a client that holds one from before keeps it.
   */
  readonly pending: ReadonlySet<string>;

  constructor(
    readonly typeUrl: XdsTypeUrl,
    resources: Iterable<EncodedResource>,
    pending: Iterable<string> = [],
  ) {
    this.pending = new Set(pending);
    const sorted = [...resources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.name === sorted[i - 1]!.name) {
        throw new Error(`duplicate ${typeUrl} resource "${sorted[i]!.name}" in one snapshot`);
      }
      if (sorted[i]!.typeUrl !== typeUrl) throw new Error(`resource "${sorted[i]!.name}" is not a ${typeUrl}`);
    }
    this.sorted = sorted;
    this.resources = new Map(sorted.map((r) => [r.name, r]));
    // Pending names are part of the version: a name no longer pending but gone must be a change.
    const pendingPart = this.pending.size === 0 ? [] : ['?', ...[...this.pending].sort()];
    this.version = contentHash([typeUrl, ...sorted.flatMap((r) => [r.name, r.version]), ...pendingPart]);
  }
}

/** Type snapshots in use, by version (a hash of their content), to hand out again. */
const inUse = new Map<string, WeakRef<TypeSnapshot>>();
const released = new FinalizationRegistry<string>((version) => {
  if (inUse.get(version)?.deref() === undefined) inUse.delete(version);
});

/**
 * The type snapshot of this content: the object already in use when the same content was built
 * before (a config reloaded with most of it unchanged, another group with the same clusters).
 * Streams compare snapshots by object before anything else, and response bytes are kept per
 * object, so an unchanged type costs a reload nothing per node.
 */
export function sharedTypeSnapshot(typeUrl: XdsTypeUrl, resources: Iterable<EncodedResource>, pending: Iterable<string> = []): TypeSnapshot {
  const built = new TypeSnapshot(typeUrl, resources, pending);
  const known = inUse.get(built.version)?.deref();
  if (known) return known;
  inUse.set(built.version, new WeakRef(built));
  released.register(built, built.version);
  return built;
}

/** Everything one node should have: a TypeSnapshot per served type. Immutable. */
export class Snapshot {
  readonly #types: ReadonlyMap<XdsTypeUrl, TypeSnapshot>;

  constructor(types: Iterable<TypeSnapshot>) {
    const map = new Map<XdsTypeUrl, TypeSnapshot>();
    for (const t of types) map.set(t.typeUrl, t);
    for (const typeUrl of PUSH_ORDER) if (!map.has(typeUrl)) map.set(typeUrl, new TypeSnapshot(typeUrl, []));
    this.#types = map;
  }

  get(typeUrl: XdsTypeUrl): TypeSnapshot {
    return this.#types.get(typeUrl)!;
  }

  /** Per-type versions, e.g. for logs and the node-status API. */
  versions(): Record<XdsTypeUrl, string> {
    return Object.fromEntries(PUSH_ORDER.map((t) => [t, this.get(t).version])) as Record<XdsTypeUrl, string>;
  }

  /** True when both snapshots would send identical bytes for every type. */
  sameAs(other: Snapshot): boolean {
    return PUSH_ORDER.every((t) => this.get(t).version === other.get(t).version);
  }
}
