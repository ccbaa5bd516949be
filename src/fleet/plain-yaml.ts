import jsYaml from 'js-yaml';
import YAML from 'yaml';
import { readsDifferently } from './plain-yaml-gate.js';

/**
 * A fast reader for the YAML most configs are: plain mappings, sequences and scalars. It gives
 * the value the `yaml` package (the reference reader, yaml-locations.ts) gives, about ten times
 * faster (a 330 KB fleet config: 20 to 30 ms, this gate included, against 200 to 350 ms), or
 * nothing: the text then goes to the reference reader, which also gives errors their places.
 *
 * The values are the same because the scalars are the reference reader's: js-yaml reads the
 * structure, and every plain scalar is resolved by the tests and resolvers of `yaml`'s own YAML
 * 1.2 core schema, in its order. What js-yaml would read differently is handed over, never
 * guessed at (plain-yaml-gate.ts): tags, aliases (which the reference reader also bounds),
 * directives, complex and null keys, and the indentation and comment forms js-yaml is more
 * lenient with; so is any text js-yaml refuses (duplicate keys, syntax errors).
 * test/fleet/plain-yaml.test.ts holds the two readers to the same values over the example
 * configs, the YAML test suite and fuzzed texts.
 */
export function readPlainYaml(text: string): { readonly value: unknown } | undefined {
  if (readsDifferently(text)) return undefined;
  try {
    // A document of nothing (or only comments) is null to the reference reader.
    return { value: jsYaml.load(text, { schema: PLAIN_SCHEMA }) ?? null };
  } catch {
    return undefined;
  }
}

/** Options the reference reader resolves scalars with: `readLocatedYaml` takes its defaults. */
const RESOLVE_OPTIONS = { intAsBigInt: false } as const;

interface ScalarTag {
  readonly tag: string;
  readonly test?: RegExp;
  readonly resolve: (source: string, onError: (message: string) => void, options: typeof RESOLVE_OPTIONS) => unknown;
}

/**
 * js-yaml implicit types made of the reference reader's core scalar tags, one per tag name (js-yaml
 * keeps one type per name). The tests of different names never match the same text (null, booleans,
 * integers and floats are disjoint), so grouping keeps the reference reader's first-match order.
 */
function plainSchema(): jsYaml.Schema {
  const byName = new Map<string, ScalarTag[]>();
  for (const tag of new YAML.Schema({}).tags as readonly ScalarTag[]) {
    if (!tag.test) continue; // mapping, sequence and string: structure, and the fallback
    byName.set(tag.tag, [...(byName.get(tag.tag) ?? []), tag]);
  }
  const implicit = [...byName].map(
    ([name, tags]) =>
      new jsYaml.Type(name, {
        kind: 'scalar',
        resolve: (source: string) => mayResolve(source) && tags.some((t) => t.test!.test(source)),
        construct: (source: string) => {
          const resolved = tags.find((t) => t.test!.test(source))!.resolve(source, () => {}, RESOLVE_OPTIONS);
          // Some resolvers give a Scalar node (floats keep their written precision): its value.
          return YAML.isScalar(resolved) ? resolved.value : resolved;
        },
      }),
  );
  return jsYaml.FAILSAFE_SCHEMA.extend({ implicit });
}

const PLAIN_SCHEMA = plainSchema();

/**
 * Whether a plain scalar could be a core-schema null, boolean or number, by its first character:
 * most scalars (names, addresses, enum values) are strings, and this spares them the tests.
 */
function mayResolve(source: string): boolean {
  return source === '' || '-+.0123456789~nNtTfF'.includes(source[0]!);
}
