/**
 * Changes to a parsed YAML or JSON document, for fuzzers: a key deleted, duplicated, retyped,
 * swapped, renamed or given a value of the wrong kind, at any path. Shared by the config fuzzer
 * (does the parser ever throw?) and the differential test against Envoy (do drainplane and
 * Envoy judge the same documents alike?).
 */
import fc from 'fast-check';

export type Json = unknown;
export type Key = string | number;

/** Paths to the values inside a parsed document (not the root itself), down to a depth of 40. */
export function pathsOf(value: Json, prefix: Key[] = [], out: Key[][] = []): Key[][] {
  if (prefix.length >= 40) return out;
  const entries: [Key, Json][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : value !== null && typeof value === 'object'
      ? Object.entries(value)
      : [];
  for (const [k, v] of entries) {
    out.push([...prefix, k]);
    pathsOf(v, [...prefix, k], out);
  }
  return out;
}

export function getAt(doc: Json, p: readonly Key[]): Json {
  return p.reduce<Json>((v, k) => (v as Record<Key, Json>)[k], doc);
}

export function parentOf(doc: Json, p: readonly Key[]): Record<Key, Json> {
  return getAt(doc, p.slice(0, -1)) as Record<Key, Json>;
}

/** Values of a type a field would not expect. */
export const wrongScalar = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, '', 'yes', [], {}, 1e308, -1e308, 2 ** 53 + 1, 2 ** 64, -(2 ** 63) - 1, 0.5, '0x10', '1s', '-5s'),
  fc.double(),
  fc.integer(),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map((s) => s.repeat(500)),
);

/** An object or list nested `depth` levels deep. */
export const deepNesting = fc.record({ depth: fc.integer({ min: 20, max: 2_000 }), list: fc.boolean() }).map(({ depth, list }) => {
  let v: Json = 'x';
  for (let i = 0; i < depth; i++) v = list ? [v] : { a: v };
  return v;
});

/** One change to a parsed document, at the path picked by `at` (modulo the number of paths). */
export const docMutation = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('retype' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: fc.oneof(wrongScalar, deepNesting, fc.anything({ maxDepth: 3 })) }),
  fc.record({
    op: fc.constant('rename' as const),
    at: fc.nat(),
    key: fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', '@type', 'name', '')),
  }),
);

export type DocMutation = typeof docMutation extends fc.Arbitrary<infer T> ? T : never;

export function retype(v: Json): Json {
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  if (v !== null && typeof v === 'object') return Object.values(v);
  if (typeof v === 'string') return Number.isNaN(Number(v)) ? [v] : Number(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 0;
  return {};
}

/**
 * A copy, since later changes may edit the value and it belongs to the fuzzer; values nested
 * too deeply to copy are made afresh by their arbitrary on every run anyway.
 */
export function cloneOf(value: Json): Json {
  try {
    return structuredClone(value);
  } catch (err) {
    if (err instanceof RangeError) return value;
    throw err;
  }
}

export function mutate(doc: Json, m: DocMutation): void {
  const paths = pathsOf(doc);
  if (paths.length === 0) return;
  const p = paths[m.at % paths.length]!;
  const parent = parentOf(doc, p);
  const key = p.at(-1)!;
  switch (m.op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return;
    case 'duplicate':
      if (Array.isArray(parent)) parent.splice(key as number, 0, cloneOf(parent[key as number]));
      else parent[`${key}_copy`] = cloneOf(parent[key]);
      return;
    case 'retype':
      parent[key] = retype(parent[key]);
      return;
    case 'swap': {
      const q = paths[m.other % paths.length]!;
      // A value swapped into its own subtree would make a cycle.
      if (q.length >= p.length ? p.every((k, i) => q[i] === k) : q.every((k, i) => p[i] === k)) return;
      const other = parentOf(doc, q);
      const last = q.at(-1)!;
      [parent[key], other[last]] = [other[last], parent[key]];
      return;
    }
    case 'replace':
      parent[key] = cloneOf(m.value);
      return;
    case 'rename':
      if (Array.isArray(parent)) return;
      Object.defineProperty(parent, m.key, { value: parent[key], enumerable: true, writable: true, configurable: true });
      if (m.key !== key) delete parent[key];
      return;
  }
}
