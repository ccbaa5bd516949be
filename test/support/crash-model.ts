/**
 * What nodes may be sent while drainplane is killed and restarted under a stream of API
 * operations: a model of the committed history, written independently of the daemon, and a
 * checker that judges every listener set a node receives against it.
 *
 * The model's state is the config revision and the drains (who they took, whether cancelled,
 * whether the egress phase was released). Each operation that committed (a 2xx, or, for one cut
 * short by a kill, what the state files show after it) moves it to a new state; a 4xx leaves it.
 * A node's listener set must match some state it may be in: not older than the states it has
 * already shown (no listener comes back without a cancel, no config goes back), and not newer
 * than what was committed or in flight. An operation cut short that did not commit must have
 * reached no node: drainplane writes its state before it pushes.
 *
 * Some steps start at a time the model leaves open: the egress phase of a scope-`all` drain
 * (once ingress completes, or once advanced: an advance is stored first and the leader then
 * starts the phase, so a kill between the two leaves the start to the restarted drainplane's
 * first step), and, in a drain in batches, each node's batch of each phase. Either outcome is
 * allowed until a node shows the step, from when on that node must keep showing it.
 */

export interface NodeSpec {
  readonly id: string;
  readonly cluster: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly zone: string;
}

export interface SelectorSpec {
  readonly ids?: readonly string[];
  readonly cluster?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly locality?: { readonly zone?: string };
}

export type ScopeSpec = 'ingress' | 'egress' | 'all' | { readonly listeners: readonly string[] };

export interface DrainBody {
  readonly selector: SelectorSpec;
  readonly scope: ScopeSpec;
  readonly method: 'remove' | 'modify';
  readonly measure: 'ack';
  readonly deadlineSeconds: number;
  readonly egress?: { readonly after: 'ingress-complete' | 'advance' };
  readonly batch?: { readonly size: number };
}

export interface ModelDrain {
  readonly id: string;
  readonly body: DrainBody;
  readonly members: readonly string[];
  readonly cancelled: boolean;
  /** The egress phase was released by an advance (scope all, egress after advance). */
  readonly advanced: boolean;
}

export interface ModelState {
  /** The config revision: the tag every listener carries in its metadata. */
  readonly tag: string;
  readonly drains: readonly ModelDrain[];
}

/** The listeners of the test config and their roles. */
export const LISTENERS = [
  { name: 'egress_http', role: 'egress' },
  { name: 'ingress_http', role: 'ingress' },
] as const;

export function selects(s: SelectorSpec, n: NodeSpec): boolean {
  if (s.ids && !s.ids.includes(n.id)) return false;
  if (s.cluster !== undefined && s.cluster !== n.cluster) return false;
  if (s.metadata && !Object.entries(s.metadata).every(([k, v]) => n.metadata[k] === v)) return false;
  if (s.locality?.zone !== undefined && s.locality.zone !== n.zone) return false;
  return true;
}

/**
 * The steps of a drain on a node whose time the model leaves open and the node has not shown
 * yet (`known`): `ID/0` for the node's batch of the first phase, `ID` for the egress phase of a
 * scope-`all` drain (the node's egress batch, in batches).
 */
function openSteps(d: ModelDrain, node: string, known: ReadonlySet<string>): string[] {
  if (d.cancelled || !d.members.includes(node)) return [];
  const steps: string[] = [];
  if (d.body.batch && !known.has(`${d.id}/0`)) steps.push(`${d.id}/0`);
  const egressOpen = d.body.scope === 'all' && (d.body.egress?.after !== 'advance' || d.advanced);
  if (egressOpen && !known.has(d.id)) steps.push(d.id);
  return steps;
}

function phaseListeners(d: ModelDrain, egressStarted: boolean): Set<string> {
  const scope = d.body.scope;
  if (typeof scope === 'object') return new Set(scope.listeners);
  const roles = scope === 'all' ? (egressStarted ? ['ingress', 'egress'] : ['ingress']) : [scope];
  return new Set(LISTENERS.filter((l) => roles.includes(l.role)).map((l) => l.name));
}

/**
 * The listener set a node is meant to have in a state, as a canonical key
 * (`name@tag#drain` per listener, in name order), given which open steps have started.
 */
export function expectedView(state: ModelState, node: string, started: ReadonlySet<string>): string {
  const parts: string[] = [];
  for (const l of LISTENERS) {
    let removed = false;
    let marker = '';
    for (const d of state.drains) {
      if (d.cancelled || !d.members.includes(node)) continue;
      if (d.body.batch && !started.has(`${d.id}/0`)) continue;
      if (!phaseListeners(d, started.has(d.id)).has(l.name)) continue;
      if (d.body.method === 'remove') removed = true;
      else marker = d.id;
    }
    if (!removed) parts.push(viewPart(l.name, state.tag, marker));
  }
  return parts.join(' ');
}

export function viewPart(name: string, tag: string, drain: string): string {
  return `${name}@${tag}#${drain}`;
}

/**
 * The views a node may show in a state, each with the open steps it assumes started: every
 * combination of them, except a drain's egress step without its first-phase batch (egress
 * starts once the whole first phase is over).
 */
function candidateViews(state: ModelState, node: string, known: ReadonlySet<string>): { view: string; started: Set<string> }[] {
  const open = state.drains.flatMap((d) => openSteps(d, node, known));
  const combos: Set<string>[] = [];
  for (let mask = 0; mask < 2 ** open.length; mask++) {
    const started = new Set(known);
    open.forEach((step, i) => mask & (2 ** i) && started.add(step));
    const consistent = state.drains.every((d) => !d.body.batch || !started.has(d.id) || started.has(`${d.id}/0`));
    if (consistent) combos.push(started);
  }
  return combos.map((started) => ({ view: expectedView(state, node, started), started }));
}

interface NodeProgress {
  /** The oldest state index a node may still show. */
  floor: number;
  /** Open steps the node has shown as started. */
  readonly started: Set<string>;
}

interface Observation {
  readonly node: string;
  readonly view: string;
  readonly where: string;
}

export class CrashModel {
  /** history[k]: the state after k committed operations. */
  readonly #history: ModelState[];
  /** The operation in flight, and what nodes were sent meanwhile (judged once it settles). */
  #inFlight: { readonly what: string; readonly seen: Observation[] } | undefined;
  readonly #nodes = new Map<string, NodeProgress>();
  readonly violations: string[] = [];

  constructor(
    initialTag: string,
    readonly nodeSpecs: readonly NodeSpec[],
  ) {
    this.#history = [{ tag: initialTag, drains: [] }];
    for (const n of nodeSpecs) this.#nodes.set(n.id, { floor: 0, started: new Set() });
  }

  get current(): ModelState {
    return this.#history.at(-1)!;
  }

  get committed(): number {
    return this.#history.length - 1;
  }

  get inFlight(): string | undefined {
    return this.#inFlight?.what;
  }

  membersOf(selector: SelectorSpec): string[] {
    return this.nodeSpecs.filter((n) => selects(selector, n)).map((n) => n.id);
  }

  /**
   * An operation is sent. What nodes are sent until it settles may show its effect or not: it
   * is judged once the outcome is known (a drain's id, for one, only comes with its 201).
   */
  begin(what: string): void {
    if (this.#inFlight) throw new Error(`"${this.#inFlight.what}" is still in flight`);
    this.#inFlight = { what, seen: [] };
  }

  /** The operation in flight committed (2xx, or seen in the state files after a kill). */
  commit(state: ModelState): void {
    this.#history.push(state);
    this.#settle('');
  }

  /** The operation in flight did not commit (4xx, or absent from the state files after a kill). */
  abandon(why: string): void {
    this.#settle(why);
  }

  #settle(why: string): void {
    const flight = this.#inFlight;
    this.#inFlight = undefined;
    for (const o of flight?.seen ?? []) this.#judge(o, why && `, while "${flight!.what}" was in flight (it ${why})`);
  }

  /** A listener set a node received (or kept, reconnecting with a version that needs no update). */
  observe(node: string, view: string, where: string): void {
    if (this.#inFlight) this.#inFlight.seen.push({ node, view, where });
    else this.#judge({ node, view, where }, '');
  }

  /** drainplane restarted: whatever it sends from now on must show every committed operation. */
  restarted(): void {
    if (this.#inFlight) throw new Error(`"${this.#inFlight.what}" is still in flight`);
    for (const p of this.#nodes.values()) p.floor = this.committed;
  }

  #judge({ node, view, where }: Observation, context: string): void {
    const p = this.#nodes.get(node)!;
    for (let k = p.floor; k < this.#history.length; k++) {
      const state = this.#history[k]!;
      const matching = candidateViews(state, node, p.started).filter((c) => c.view === view);
      if (matching.length === 0) continue;
      p.floor = k;
      // Open steps started in every explanation of this view: the node has shown them.
      for (const id of matching[0]!.started) if (matching.every((c) => c.started.has(id))) p.started.add(id);
      return;
    }
    const allowed = this.#history
      .slice(p.floor)
      .map((s) => expectedView(s, node, p.started))
      .slice(-4);
    this.violations.push(
      `${node} ${where} was sent [${view}]${context}; allowed from state ${p.floor} of ${this.committed}: ` +
        [...new Set(allowed)].map((v) => `[${v}]`).join(' or '),
    );
  }

  /** The view a node ends at in the current state once every open step has started. */
  settledView(node: string): string {
    const all = new Set(this.current.drains.flatMap((d) => openSteps(d, node, new Set())));
    return expectedView(this.current, node, all);
  }
}

/** A state with one drain more, cancelled, advanced, or with a new config revision. */
export const transitions = {
  create: (s: ModelState, d: ModelDrain): ModelState => ({ ...s, drains: [...s.drains, d] }),
  cancel: (s: ModelState, id: string): ModelState => ({ ...s, drains: s.drains.map((d) => (d.id === id ? { ...d, cancelled: true } : d)) }),
  advance: (s: ModelState, id: string): ModelState => ({ ...s, drains: s.drains.map((d) => (d.id === id ? { ...d, advanced: true } : d)) }),
  reload: (s: ModelState, tag: string): ModelState => ({ ...s, tag }),
};
