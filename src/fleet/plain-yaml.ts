import jsYaml from 'js-yaml';
import YAML from 'yaml';

/**
 * A fast reader for the YAML most configs are: plain mappings, sequences and scalars. It gives
 * the value the `yaml` package (the reference reader, yaml-locations.ts) gives, about fifteen
 * times faster (a 330 KB fleet config: 12 ms against 200 ms), or nothing: the text then goes to
 * the reference reader, which also gives errors their places.
 *
 * The values are the same because the scalars are the reference reader's: js-yaml reads the
 * structure, and every plain scalar is resolved by the tests and resolvers of `yaml`'s own YAML
 * 1.2 core schema, in its order. What js-yaml would read differently is handed over, never
 * guessed at: a text with a tag, an alias, a directive, an explicit (`?`) or collection key, or
 * a null key (each of which the two readers treat differently, or, for aliases, which the
 * reference reader bounds), and any text js-yaml refuses (duplicate keys, syntax errors, tabs).
 * The gate looks at the raw text, so a quoted string that merely looks like one of those sends
 * the text to the reference reader too: slower, never different. test/fleet/plain-yaml.test.ts
 * holds the two readers to the same values over the example configs and fuzzed documents.
 */
export function readPlainYaml(text: string): { readonly value: unknown } | undefined {
  if (NOT_PLAIN.some((re) => re.test(text)) || readsDifferently(text)) return undefined;
  try {
    // A document of nothing (or only comments) is null to the reference reader.
    return { value: jsYaml.load(text, { schema: PLAIN_SCHEMA }) ?? null };
  } catch {
    return undefined;
  }
}

/** What the fast reader leaves to the reference reader (see above); `m`: `^` is a line's start. */
const NOT_PLAIN: readonly RegExp[] = [
  // A tag (`!!int 1`, `!Ref x`), an alias (`*base`) or an anchor (`&base`), where a node may start.
  /(?:^|[\s,[{:?-])[!*&]/m,
  // A directive (`%YAML 1.1` switches the reference reader to YAML 1.1 scalars).
  /^%/m,
  // A comment against a token (`"x"#c`, `[#`): js-yaml reads a comment, the reference reader refuses it.
  /["'\]}[{,|>]#/,
  // A block scalar's indentation indicator (`|2`): js-yaml takes content the reference reader
  // refuses. Keep chomping (`|+`): js-yaml keeps a blank last line the reference reader drops.
  /[|>](?:[-+]?[0-9]|\+)/,
  // A block scalar as the whole document: the reference reader takes lines at column 0 into it.
  /^(?:\s|#[^\n]*|---)*[|>]/,
  // A tab anywhere: the two readers differ on where tabs may stand.
  /\t/,
  // A document marker with more on its line: js-yaml reads `---a` as a marker and `a`.
  /^(?:---|\.\.\.)(?![ \r]*$|[ ]+#)/m,
  // An empty sequence entry (`-` alone, or before a comment): js-yaml adds the entries of an
  // enclosing sequence that follow it to the empty entry's sequence.
  /^[ ]*(?:-[ ]+)*-[ ]*(?:#.*)?\r?$/m,
  // An explicit key (`? key`).
  /(?:^|[\s,[{])\?(?:[\s,\]}]|$)/m,
  // A flow collection as a key (`[a, b]: x`, `{a: 1}: x`).
  /[\]}][ \t]*:(?:[\s,\]}]|$)/,
  // A null key: `~:`, `null:`, or an empty one (`: x`, `- : x`, `{: x}`).
  /(?:^|[\s,[{])(?:~|null|Null|NULL)[ \t]*:(?:[\s,\]}]|$)/m,
  /(?:^|[,[{-])[ \t]*:(?:[\s,\]}]|$)/m,
];

/**
 * Whether a quoted scalar or a flow collection of a block document goes on to a line indented no
 * deeper than its own line's content (the column after its leading `- `s), which the reference
 * reader refuses and js-yaml takes; or a flow mapping has a collection as a key. Block scalars
 * (`|`, `>`) are skipped: their lines are text. A document that is one flow collection (JSON)
 * has no block indentation to keep.
 */
function readsDifferently(text: string): boolean {
  const rootIsFlow = /^(?:\s|#[^\n]*|---)*[[{]/.test(text);
  let quote: '"' | "'" | undefined;
  const flow: ('[' | '{')[] = [];
  let openedAt = -1; // the content column of the line a quote or flow collection opened on
  let blockScalarAbove = -1; // lines indented deeper than this belong to a block scalar
  let escapedBreak = false; // the line before ended in a double-quoted `\` line break
  for (let start = 0; start < text.length;) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    let indent = start;
    while (text[indent] === ' ') indent++;
    const blank = indent === end || (text[indent] === '\r' && indent + 1 === end);
    const column = indent - start;
    if (blockScalarAbove >= 0 && (blank || column > blockScalarAbove)) {
      start = end + 1;
      continue;
    }
    blockScalarAbove = -1;
    // An escaped line break before a blank line: the readers keep different spaces.
    if (escapedBreak && blank) return true;
    escapedBreak = false;
    if (quote !== undefined || flow.length > 0) {
      // A flow collection may close at its line's column (both readers take that).
      const closes = quote === undefined && (text[indent] === ']' || text[indent] === '}') && column === openedAt;
      if (!rootIsFlow && !blank && column <= openedAt && !closes) return true;
    } else {
      openedAt = column;
      for (let i = indent; text[i] === '-' && text[i + 1] === ' ';) {
        i += 2;
        while (text[i] === ' ') i++;
        openedAt = i - start;
      }
    }
    let tokenStart = true;
    for (let i = indent; i < end; i++) {
      const c = text[i];
      if (quote === '"') {
        if (c === '\\') escapedBreak = ++i >= end || (text[i] === '\r' && i + 1 === end);
        else if (c === '"') quote = undefined;
        continue;
      }
      if (quote === "'") {
        if (c === "'" && text[i + 1] === "'") i++;
        else if (c === "'") quote = undefined;
        continue;
      }
      if (c === ' ' || c === '\r') {
        tokenStart = true;
        continue;
      }
      if (c === '#' && tokenStart) {
        // A comment inside a flow collection could hide a null key from the checks below.
        if (flow.length > 0) return true;
        break;
      }
      if (tokenStart && (c === '"' || c === "'")) quote = c;
      else if (tokenStart && (c === '[' || c === '{')) {
        // A collection as a key of a flow mapping (`{ {}, a: 1 }`): js-yaml's key is "[object Object]".
        if (flow.at(-1) === '{' && entryStart(text, i)) return true;
        flow.push(c);
        if (c === '{' && nullEntryAt(FIRST_NULL_ENTRY, text, i + 1)) return true;
      } else if (flow.length > 0 && (c === ']' || c === '}')) flow.pop();
      else if (c === ',' && flow.at(-1) === '{' && nullEntryAt(NEXT_NULL_ENTRY, text, i + 1)) return true;
      else if (tokenStart && flow.length === 0 && (c === '|' || c === '>')) {
        blockScalarAbove = column;
        break;
      }
      tokenStart = flow.length > 0 && (c === ',' || c === '[' || c === '{' || c === ':');
      if (c === '-' && flow.length === 0 && text[i + 1] === ' ') tokenStart = true;
      if (c === ':' && (text[i + 1] === ' ' || i + 1 === end)) tokenStart = true;
    }
    start = end + 1;
  }
  return false;
}

/**
 * A flow mapping entry whose key is null: `~`, `null` or nothing, with no value (`{ null, a: 1 }`,
 * `{ a: 1, , b }`); the readers name that key differently. The first entry may not be nothing:
 * `{}` is an empty mapping.
 */
const FIRST_NULL_ENTRY = /[ \r\n]*(?:(?:~|null|Null|NULL)[ \r\n]*[,}]|,)/y;
const NEXT_NULL_ENTRY = /[ \r\n]*(?:~|null|Null|NULL)?[ \r\n]*[,}]/y;

function nullEntryAt(re: RegExp, text: string, at: number): boolean {
  re.lastIndex = at;
  return re.test(text);
}

/** Whether the character at `at` is the first of a flow mapping's entry (after `{` or `,` and spaces). */
function entryStart(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r')) i--;
  return text[i] === '{' || text[i] === ',';
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
