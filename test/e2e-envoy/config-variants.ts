/**
 * Variants of the example configs for the differential test: changes inside one group's
 * resources that a person editing a config makes by mistake (a filter or filter chain removed,
 * repeated or moved, a number out of range, a bad enum name or duration, a required field
 * dropped, a reference to a resource that is not there, two resources of one name) and the
 * config fuzzer's blind ones (a key deleted, retyped, renamed, a value of the wrong kind).
 * The group's own shape (name, match, the four lists) is left alone: the test is about the
 * Envoy resources. A seed makes the same variants every run.
 */
import fc from 'fast-check';
import { docMutation, getAt, mutate, parentOf, pathsOf, type Json, type Key } from '../support/doc-mutations.js';

const SECTIONS = ['listeners', 'clusters', 'routes', 'endpoints'] as const;
const NAME_FIELD: Readonly<Record<string, string>> = { listeners: 'name', clusters: 'name', routes: 'name', endpoints: 'cluster_name' };

const change = fc.oneof(
  fc.record({ op: fc.constantFrom('remove-item' as const, 'duplicate-item' as const, 'drop-field' as const), at: fc.nat() }),
  fc.record({ op: fc.constantFrom('reorder-items' as const, 'same-name' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({
    op: fc.constant('out-of-range' as const),
    at: fc.nat(),
    value: fc.constantFrom<Json>(-1, 0, 65_536, 2 ** 32, -(2 ** 31) - 1, 1.5, 1e20),
  }),
  fc.record({ op: fc.constant('bad-enum' as const), at: fc.nat(), value: fc.constantFrom<Json>('NOT_A_VALUE', 'inbound', 12_345, '') }),
  fc.record({ op: fc.constant('bad-duration' as const), at: fc.nat(), value: fc.constantFrom<Json>('-1s', '1', '1m', '315576000001s', '0s', '') }),
  fc.record({ op: fc.constant('unknown-reference' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('blind' as const), at: fc.nat(), change: docMutation }),
);

type Change = typeof change extends fc.Arbitrary<infer T> ? T : never;

export interface Variant {
  /** What was changed, e.g. `examples/sidecar.yaml: remove-item groups[0].listeners[1].filter_chains[0]`. */
  readonly label: string;
  readonly document: Json;
}

export interface Source {
  readonly file: string;
  readonly document: Json;
}

/** `count` variants of the sources, the same for the same seed. */
export function configVariants(sources: readonly Source[], count: number, seed: number): Variant[] {
  const arbitrary = fc.record({ source: fc.constantFrom(...sources), group: fc.nat(), changes: fc.array(change, { minLength: 1, maxLength: 3 }) });
  return fc.sample(arbitrary, { seed, numRuns: count }).map(({ source, group, changes }) => {
    const document = structuredClone(source.document) as { groups: Json[] };
    const g = group % document.groups.length;
    const done = changes.map((c) => apply(document.groups[g], c, `groups[${g}]`));
    return { label: `${source.file}: ${done.join('; ')}`, document };
  });
}

/** Applies one change to a group (at `where` in the document), inside its resources; says what it did. */
function apply(group: Json, c: Change, where: string): string {
  const render = (p: readonly Key[]): string => where + p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
  const paths = pathsOf(group).filter((p) => SECTIONS.includes(p[0] as (typeof SECTIONS)[number]) && p.length >= 2);
  const pick = (keep: (p: Key[], value: Json) => boolean): Key[] | undefined => {
    const candidates = paths.filter((p) => keep(p, getAt(group, p)));
    return candidates.length === 0 ? undefined : candidates[c.at % candidates.length];
  };
  const set = (p: Key[] | undefined, value: Json): string => {
    if (!p) return `${c.op} (nowhere to apply)`;
    parentOf(group, p)[p.at(-1)!] = value;
    return `${c.op} ${render(p)} = ${JSON.stringify(value)}`;
  };
  const inList = (p: Key[]) => Array.isArray(parentOf(group, p));
  switch (c.op) {
    case 'remove-item':
    case 'duplicate-item': {
      const p = pick(inList);
      if (!p) return `${c.op} (nowhere to apply)`;
      const list = parentOf(group, p) as unknown as Json[];
      const i = p.at(-1) as number;
      if (c.op === 'remove-item') list.splice(i, 1);
      else list.splice(i, 0, structuredClone(list[i]));
      return `${c.op} ${render(p)}`;
    }
    case 'reorder-items': {
      const p = pick((q) => inList(q) && (parentOf(group, q) as unknown as Json[]).length > 1);
      if (!p) return `${c.op} (nowhere to apply)`;
      const list = parentOf(group, p) as unknown as Json[];
      const i = p.at(-1) as number;
      const j = (i + 1 + (c.other % (list.length - 1))) % list.length;
      [list[i], list[j]] = [list[j], list[i]];
      return `${c.op} ${render(p)} <-> [${j}]`;
    }
    case 'drop-field': {
      const p = pick((q) => !inList(q));
      if (!p) return `${c.op} (nowhere to apply)`;
      delete parentOf(group, p)[p.at(-1)!];
      return `${c.op} ${render(p)}`;
    }
    case 'out-of-range':
      return set(
        pick((_p, v) => typeof v === 'number'),
        c.value,
      );
    case 'bad-enum':
      return set(
        pick((_p, v) => typeof v === 'string' && /^[A-Z][A-Z0-9_]+$/.test(v)),
        c.value,
      );
    case 'bad-duration':
      return set(
        pick((_p, v) => typeof v === 'string' && /^\d+(\.\d+)?s$/.test(v)),
        c.value,
      );
    case 'unknown-reference': {
      const names = resourceNames(group);
      return set(
        pick((p, v) => typeof v === 'string' && names.has(v) && p.length > 3),
        'not_in_this_group',
      );
    }
    case 'same-name': {
      const p = pick((q) => q.length === 3 && q[2] === NAME_FIELD[q[0] as string]);
      if (!p) return `${c.op} (nowhere to apply)`;
      const others = (group as Record<string, Json[]>)[p[0] as string]!;
      const other = others[c.other % others.length] as Record<string, Json> | undefined;
      return set(p, other?.[p[2] as string]);
    }
    case 'blind': {
      const p = pick((q) => q.length === 2);
      if (!p) return `${c.op} (nowhere to apply)`;
      mutate(getAt(group, p), c.change);
      return `${c.change.op} in ${render(p)}`;
    }
  }
}

/** Every resource name declared in a group. */
function resourceNames(group: Json): Set<string> {
  const names = new Set<string>();
  for (const section of SECTIONS) {
    const list = (group as Record<string, Json>)[section];
    if (!Array.isArray(list)) continue;
    for (const r of list as Record<string, Json>[]) {
      const name = r?.[NAME_FIELD[section]!];
      if (typeof name === 'string') names.add(name);
    }
  }
  return names;
}
