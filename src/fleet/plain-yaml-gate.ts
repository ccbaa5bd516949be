/**
 * Which texts the fast YAML reader (plain-yaml.ts) leaves to the reference reader: those where
 * js-yaml reads differently from the `yaml` package, or takes what it refuses. Each rule below
 * was found by reading the two parsers side by side against the YAML test suite and fuzzed
 * texts (test/fleet/plain-yaml.test.ts holds them to it). A rule may catch more than it must (a
 * quoted string that merely looks like a tag, say): the text is then read by the reference
 * reader, slower and never different.
 */
export function readsDifferently(text: string): boolean {
  return NOT_PLAIN.some((re) => re.test(text)) || scanFindsDifference(text);
}

/** What may come before a document's root node: blank lines, comment lines, a `---` marker. */
const BEFORE_ROOT = String.raw`^(?:[ \r\n]|#[^\n]*(?:\n|$)|---)*`;

/** A document that is one flow collection (JSON, say). */
const ROOT_IS_FLOW = new RegExp(`${BEFORE_ROOT}[[{]`);

/** `m`: `^` is a line's start. */
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
  new RegExp(`${BEFORE_ROOT}[|>]`),
  // A tab anywhere: the two readers differ on where tabs may stand.
  /\t/,
  // A carriage return not before a line feed: a line break to js-yaml, content to the reference reader.
  /\r(?!\n)/,
  // A byte order mark anywhere: either reader may keep it as content, at different places.
  /\uFEFF/,
  // A `\U` escape beyond Unicode: js-yaml makes characters of it, the reference reader refuses it.
  /\\U(?!000[0-9a-fA-F]{5}|0010[0-9a-fA-F]{4})/,
  // A document marker with more on its line (`---a`, `--- x`, `---` and U+2028): js-yaml reads a
  // marker and content, the reference reader a scalar, or the same content differently.
  /^(?:---|\.\.\.)(?![ \r]*(?:\n|(?![\s\S]))|[ ]+#)/m,
  // An empty sequence entry (`-` alone, or before a comment): js-yaml adds the entries of an
  // enclosing sequence that follow it to the empty entry's sequence.
  /^[ ]*(?:-[ ]+)*-[ ]*(?:#.*)?\r?$/m,
  // An explicit key (`? key`).
  /(?:^|[\s,[{])\?(?:[\s,\]}]|$)/m,
  // A flow collection as a key (`[a, b]: x`, `[[a]:b]`): js-yaml's key is its items joined, or "[object Object]".
  /[\]}][ \t]*:/,
  // A null key: `~:`, `null:`, or an empty one (`: x`, `- : x`, `{: x}`, `[:[a]]`); the readers name it differently.
  /(?:^|[\s,[{])(?:~|null|Null|NULL)[ \t]*:(?:[\s,[\]{}]|$)/m,
  /(?:^|[,[{-])[ \t]*:(?:[\s,[\]{}]|$)/m,
  // A comment against a quoted key's or a collection's colon (`["b":#c]`): js-yaml reads a comment.
  /["'\]}][ ]*:#/,
];

/** A line ending in a colon and nothing more, or a comment: a key whose value starts below. */
const ENDS_IN_COLON = /:[ ]*(?:[ ]#.*)?\r?$/;

/**
 * What the rules above cannot see line by line, found by following quotes, flow collections and
 * block scalars through the text:
 * - a quoted scalar or flow collection of a block document that goes on to a line indented no
 *   deeper than its own line's content (the column after its leading `- `s): the reference
 *   reader refuses such a line, js-yaml takes it. A document that is one flow collection (JSON)
 *   has no block indentation to keep;
 * - a collection, a null or a missing entry as a key of a flow mapping; a comment inside a flow;
 * - a double-quoted escaped line break before a blank line (the readers keep different spaces);
 * - a block scalar whose leading blank lines are wider than its first line of text;
 * - a line longer than 1024 characters (the reference reader refuses an implicit key that long);
 * - comment lines between a key and its value that the reference reader reads into the value.
 * One pass, line by line: the time it takes grows with the text, whatever the text.
 * A quote, bracket or block scalar indicator opens something only where a node may start (at a
 * line's content, after `- `, `: `, or a flow's `[`, `{` and `,`): inside a plain scalar
 * (`it's`, `a [b]`) it is text.
 */
function scanFindsDifference(text: string): boolean {
  const rootIsFlow = ROOT_IS_FLOW.test(text);
  let quote: '"' | "'" | undefined;
  const flow: ('[' | '{')[] = [];
  let openedAt = -1; // the content column of the line a quote or flow collection opened on
  let lastDash = -1; // the column of that line's last leading `- `, if any
  let blockScalarAbove = -1; // lines indented deeper than this belong to a block scalar
  let headerAlone = false; // that block scalar's header began its line
  let widestLeadingBlank = -1; // of the block scalar's blank lines before its first text; -2: text seen
  let escapedBreak = false; // the line before ended in a double-quoted `\` line break
  let keyAbove = false; // a line ending in a colon, then only blank and comment lines, came before
  let blankBefore = false; // the line before was blank
  let nodeMayStart = true; // carried from line to line inside a flow collection
  let afterJsonKey = false; // the last token was a quoted scalar or a flow collection's end
  for (let start = 0; start < text.length;) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    // A line longer than 1024 characters: the reference reader refuses an implicit key that long.
    if (end - start > 1024) return true;
    let indent = start;
    while (text[indent] === ' ') indent++;
    const blank = indent === end || (text[indent] === '\r' && indent + 1 === end);
    const column = indent - start;
    // Comment lines between a key with no value on its line and what follows: the reference
    // reader takes the lines after a `#c` comment (no space), or after a blank line and a comment
    // at column 0, into a plain scalar value; js-yaml does not. Any line counts, text included.
    const comment = text[indent] === '#';
    if (keyAbove && comment) {
      const next = text[indent + 1];
      if (indent + 1 < end && next !== ' ' && next !== '\r') return true;
      if (column === 0 && blankBefore) return true;
    }
    if (!blank && !comment) keyAbove = false;
    if (!blank && ENDS_IN_COLON.test(text.slice(start, end))) keyAbove = true;
    blankBefore = blank;
    if (blockScalarAbove >= 0 && (blank || column > blockScalarAbove)) {
      if (widestLeadingBlank !== -2) {
        if (blank) widestLeadingBlank = Math.max(widestLeadingBlank, column);
        else if (widestLeadingBlank > column) return true;
        else widestLeadingBlank = -2;
      }
      start = end + 1;
      continue;
    }
    // A header alone on its line belongs to the key above it, whose text may start left of the
    // header: this line may be its first, after wider blank lines (the reference reader refuses that).
    if (blockScalarAbove >= 0 && headerAlone && widestLeadingBlank > column) return true;
    blockScalarAbove = -1;
    if (escapedBreak && blank) return true;
    escapedBreak = false;
    if (quote !== undefined || flow.length > 0) {
      // The outermost flow collection may close at its line's column, with nothing after it but a
      // comment (both readers take that).
      const closes =
        quote === undefined &&
        flow.length === 1 &&
        (text[indent] === ']' || text[indent] === '}') &&
        column === openedAt &&
        /^[ \r]*(?:#|$)/.test(text.slice(indent + 1, end));
      if (!rootIsFlow && !blank && column <= openedAt && !closes) return true;
    } else {
      openedAt = column;
      lastDash = -1;
      nodeMayStart = true;
      for (let i = indent; text[i] === '-' && text[i + 1] === ' ';) {
        lastDash = i - start;
        i += 2;
        while (text[i] === ' ') i++;
        openedAt = i - start;
      }
    }
    let afterSpace = true;
    for (let i = indent; i < end; i++) {
      const c = text[i]!;
      if (quote === '"') {
        if (c === '\\') escapedBreak = ++i >= end || (text[i] === '\r' && i + 1 === end);
        else if (c === '"') [quote, afterJsonKey] = [undefined, true];
        continue;
      }
      if (quote === "'") {
        if (c === "'" && text[i + 1] === "'") i++;
        else if (c === "'") [quote, afterJsonKey] = [undefined, true];
        continue;
      }
      if (c === ' ' || c === '\r') {
        afterSpace = true;
        continue;
      }
      if (c === '#' && afterSpace) {
        // A comment inside a flow collection could hide a null key from the checks here.
        if (flow.length > 0) return true;
        break;
      }
      const jsonKeyBefore = afterJsonKey;
      afterJsonKey = false;
      afterSpace = false;
      if (nodeMayStart && (c === '"' || c === "'")) {
        quote = c;
        nodeMayStart = false;
      } else if (nodeMayStart && (c === '[' || c === '{')) {
        // A collection as a key of a flow mapping (`{ {}, a: 1 }`): js-yaml's key is "[object Object]".
        if (flow.at(-1) === '{' && entryStart(text, i)) return true;
        flow.push(c);
        if (c === '{' && nullEntryAt(FIRST_NULL_ENTRY, text, i + 1)) return true;
      } else if (flow.length > 0 && (c === ']' || c === '}')) {
        flow.pop();
        nodeMayStart = false;
        afterJsonKey = true;
      } else if (flow.length > 0 && c === ',') {
        if (flow.at(-1) === '{' && nullEntryAt(NEXT_NULL_ENTRY, text, i + 1)) return true;
        nodeMayStart = true;
      } else if (nodeMayStart && flow.length === 0 && (c === '|' || c === '>')) {
        // Its text is indented deeper than the node it belongs to: its key, or for `- |` the `-`.
        blockScalarAbove = i - start === openedAt && lastDash >= 0 ? lastDash : openedAt;
        headerAlone = i - start === openedAt && lastDash < 0;
        widestLeadingBlank = -1;
        break;
      } else if (c === ':' && valueMayFollow(text, i, end, flow.length > 0, jsonKeyBefore)) nodeMayStart = true;
      else nodeMayStart = c === '-' && flow.length === 0 && nodeMayStart && (text[i + 1] === ' ' || i + 1 === end);
    }
    start = end + 1;
  }
  return false;
}

/**
 * Whether the `:` at `i` separates a key from its value: before a space or the line's end, or in
 * a flow right after a quoted key or a collection (`{"a":1}`) or before a flow indicator.
 */
function valueMayFollow(text: string, i: number, end: number, inFlow: boolean, afterJsonKey: boolean): boolean {
  const next = text[i + 1];
  if (next === ' ' || next === '\r' || i + 1 === end) return true;
  return inFlow && (afterJsonKey || (next !== undefined && ',[]{}'.includes(next)));
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
