/**
 * The page's state in one place. Views subscribe to the parts they show and are told which
 * parts changed, so a drain update does not redraw the node table, and the reverse.
 */
import type { LiveState } from './sse.js';
import type { DrainDigest, FleetSummary, ListenerState, NodePage } from './types.js';

export interface NodeFilter {
  readonly q: string;
  readonly cluster: string;
  readonly zone: string;
  readonly state: '' | ListenerState;
  readonly connected: boolean;
  /** Nodes per page: one of PAGE_SIZES. */
  readonly pageSize: number;
  /** The page shown, from 1. */
  readonly pageNumber: number;
}

/** The page sizes offered: a screenful to a long list that is still quick to draw. */
export const PAGE_SIZES: readonly number[] = [50, 100, 200, 500];

export const NO_FILTER: NodeFilter = { q: '', cluster: '', zone: '', state: '', connected: false, pageSize: 50, pageNumber: 1 };

export interface ConsoleState {
  readonly live: { readonly state: LiveState; readonly detail?: string };
  readonly summary: FleetSummary | undefined;
  /** Drains by id, as their latest summaries. */
  readonly drains: ReadonlyMap<string, DrainDigest>;
  readonly filter: NodeFilter;
  /** The page of nodes shown (the filter says which). */
  readonly nodes: { readonly page: NodePage | undefined };
  readonly nodesError: string | undefined;
  /** The view shown: `fleet`, `drains`, a drain's id, the drain form, or a node's page (address.ts). */
  readonly route: {
    readonly view: 'fleet' | 'drains';
    readonly drain?: string;
    /** On a drain's page: the part of a node id searched for among its nodes. */
    readonly search?: string;
    readonly form?: boolean;
    readonly node?: string;
  };
}

export type Part = keyof ConsoleState;
type Listener = (state: ConsoleState, changed: ReadonlySet<Part>) => void;

export class Store {
  #state: ConsoleState;
  readonly #listeners = new Set<{ parts: ReadonlySet<Part>; fn: Listener }>();

  constructor(initial: ConsoleState) {
    this.#state = initial;
  }

  get state(): ConsoleState {
    return this.#state;
  }

  update(patch: Partial<ConsoleState>): void {
    this.#state = { ...this.#state, ...patch };
    const changed = new Set(Object.keys(patch) as Part[]);
    for (const l of this.#listeners) if ([...changed].some((p) => l.parts.has(p))) l.fn(this.#state, changed);
  }

  /** Calls `fn` now and whenever one of `parts` changes. */
  watch(parts: readonly Part[], fn: Listener): void {
    this.#listeners.add({ parts: new Set(parts), fn });
    fn(this.#state, new Set(parts));
  }
}
