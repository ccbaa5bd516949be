import type { TypeSnapshot } from '../cache/snapshot.js';
import { contentHash, type EncodedResource } from '../resource/encoded-resource.js';

/** The resources a list of names selects from a snapshot, and the key of that content. */
export interface Selection {
  readonly resources: readonly EncodedResource[];
  readonly contentKey: string;
}

interface Entry {
  readonly namesKey: string;
  /** The map of its snapshot that holds it, to be removed from on eviction. */
  readonly home: Map<string, Entry>;
  readonly selection: Selection;
  readonly bytes: number;
}

/** What an entry costs beside its key and resources: the objects, the map slots. */
const ENTRY_OVERHEAD_BYTES = 160;

/**
 * Selections of a snapshot by resource names (SotW streams that name what they want: RDS, EDS),
 * computed once per snapshot and list of names and shared by every stream that names the same
 * resources (all the nodes of a group do), so the work does not grow with the number of nodes.
 *
 * The lists of names come from clients, so the cache is bounded: by `maxBytes` over all
 * snapshots, counting each list of names and the response bytes its selection is shared with
 * (`responses.ts` keeps those as long as the selection lives); the least recently used entry
 * goes first. A selection larger than the whole bound is not kept at all. Finding one costs
 * O(1) once the list's key is hashed (the stream keeps the same key string).
 */
export class SelectionCache {
  readonly #bySnapshot = new WeakMap<TypeSnapshot, Map<string, Entry>>();
  /** Every entry, least recently used first. */
  readonly #lru = new Set<Entry>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  /** The resources of `snapshot` named by `names` (whose sorted, joined form is `namesKey`), in name order. */
  get(snapshot: TypeSnapshot, namesKey: string, names: ReadonlySet<string>): Selection {
    let home = this.#bySnapshot.get(snapshot);
    const found = home?.get(namesKey);
    if (found) {
      this.#lru.delete(found);
      this.#lru.add(found);
      return found.selection;
    }
    const selection = select(snapshot, names);
    const bytes = namesKey.length + selection.resources.reduce((sum, r) => sum + r.sotwField.length + 8, ENTRY_OVERHEAD_BYTES);
    if (bytes > this.maxBytes) return selection;
    if (!home) this.#bySnapshot.set(snapshot, (home = new Map<string, Entry>()));
    const entry: Entry = { namesKey, home, selection, bytes };
    home.set(namesKey, entry);
    this.#lru.add(entry);
    this.#bytes += bytes;
    for (const oldest of this.#lru) {
      if (this.#bytes <= this.maxBytes) break;
      this.#lru.delete(oldest);
      oldest.home.delete(oldest.namesKey);
      this.#bytes -= oldest.bytes;
    }
    return selection;
  }

  /** Number of selections kept. */
  get size(): number {
    return this.#lru.size;
  }

  /** Bytes the kept selections account for. */
  get bytes(): number {
    return this.#bytes;
  }
}

function select(snapshot: TypeSnapshot, names: ReadonlySet<string>): Selection {
  const resources = [...names]
    .sort()
    .map((name) => snapshot.resources.get(name))
    .filter((r): r is EncodedResource => r !== undefined);
  return { resources, contentKey: contentHash([snapshot.typeUrl, ...resources.flatMap((r) => [r.name, r.version])]) };
}
