/**
 * Config files from a fuzzer: the real example configs with keys deleted, duplicated, retyped
 * and swapped, wrong scalars, huge numbers, unicode, deep nesting, truncated text and random
 * bytes; and random YAML documents. The parser never throws: it accepts a document or lists
 * errors, each with a place (a path, or a line and column) and a message, printed on one line
 * that names the file; `drainplane validate` on such files exits 1 with those lines, never a
 * stack trace.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import YAML from 'yaml';
import { formatIssue, parseConfig, type ConfigResult } from '../../src/fleet/config.js';
import { runCli } from '../support/cli.js';
import { docMutation, mutate, type Json } from '../support/doc-mutations.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCES = ['examples/edge-gateway.yaml', 'examples/sidecar.yaml', 'examples/tcp-proxy.yaml', 'envoy/drainplane.yaml'].map((f) => ({
  file: f,
  text: readFileSync(path.join(ROOT, f), 'utf8'),
}));
/** Inputs per kind of input (random documents get twice as many); CONFIG_FUZZ_RUNS raises it for a longer search. */
const RUNS = Number(process.env['CONFIG_FUZZ_RUNS'] ?? 120);
/** The file name the parser is given: every printed issue must name it. */
const SOURCE = 'fuzzed.yaml';

/** Changes to the text itself: truncation, random bytes, duplicated or dropped lines, tabs. */
const textMutation = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('bytes' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ op: fc.constant('duplicate-line' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('drop-line' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), at: fc.nat(), by: fc.constantFrom(' ', '  ', '\t', '- ') }),
);

type TextMutation = typeof textMutation extends fc.Arbitrary<infer T> ? T : never;

/** Applies a text change to the file's bytes (random bytes need not be valid UTF-8). */
function mutateText(bytes: Buffer, m: TextMutation): Buffer {
  const at = m.at % (bytes.length + 1);
  const lines = bytes.toString('utf8').split('\n');
  const line = m.at % lines.length;
  switch (m.op) {
    case 'truncate':
      return bytes.subarray(0, at);
    case 'bytes':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
    case 'duplicate-line':
      lines.splice(line, 0, lines[line]!);
      return Buffer.from(lines.join('\n'));
    case 'drop-line':
      lines.splice(line, 1);
      return Buffer.from(lines.join('\n'));
    case 'indent':
      lines[line] = m.by + lines[line]!;
      return Buffer.from(lines.join('\n'));
  }
}

/** As YAML, or JSON (a YAML subset); nesting too deep for the YAML writer is written as JSON. */
function serialize(doc: Json, json: boolean): string {
  if (!json) {
    try {
      return YAML.stringify(doc, { aliasDuplicateObjects: false }) ?? '';
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
    }
  }
  return JSON.stringify(doc) ?? '';
}

interface Case {
  readonly kind: string;
  /** The file as it would be on disk. */
  readonly bytes: Buffer;
}

const fromExample: fc.Arbitrary<Case> = fc
  .record({
    source: fc.constantFrom(...SOURCES),
    changes: fc.array(docMutation, { minLength: 1, maxLength: 4 }),
    json: fc.boolean(),
  })
  .map(({ source, changes, json }) => {
    const doc = YAML.parse(source.text) as Json;
    for (const c of changes) mutate(doc, c);
    return { kind: `example document: ${source.file}: ${changes.map((c) => c.op).join(', ')}`, bytes: Buffer.from(serialize(doc, json)) };
  });

const textOfExample: fc.Arbitrary<Case> = fc
  .record({ source: fc.constantFrom(...SOURCES), changes: fc.array(textMutation, { minLength: 1, maxLength: 3 }) })
  .map(({ source, changes }) => ({
    kind: `example text: ${source.file}: ${changes.map((c) => c.op).join(', ')}`,
    bytes: changes.reduce<Buffer>((b, c) => mutateText(b, c), Buffer.from(source.text)),
  }));

const randomDocument: fc.Arbitrary<Case> = fc.oneof(
  fc.anything({ maxDepth: 5 }).map((doc) => ({ kind: 'random document', bytes: Buffer.from(YAML.stringify(doc) ?? '') })),
  fc
    .record({
      groups: fc.array(
        fc.dictionary(fc.constantFrom('name', 'match', 'listeners', 'clusters', 'routes', 'endpoints', 'other'), fc.anything({ maxDepth: 4 })),
        { maxLength: 3 },
      ),
    })
    .map((doc) => ({ kind: 'random groups', bytes: Buffer.from(YAML.stringify(doc)) })),
  fc.string({ unit: 'binary', maxLength: 400 }).map((s) => ({ kind: 'random text', bytes: Buffer.from(s) })),
  fc.uint8Array({ maxLength: 400 }).map((b) => ({ kind: 'random bytes', bytes: Buffer.from(b) })),
);

/** FUZZ_SEED and FUZZ_PATH (from a failure's report) replay that failure. */
const REPLAY = process.env['FUZZ_SEED']
  ? { seed: Number(process.env['FUZZ_SEED']), ...(process.env['FUZZ_PATH'] && { path: process.env['FUZZ_PATH'] }), endOnFailure: true, verbose: 2 }
  : {};

/** What a user of the parser may rely on, whatever the input. */
function checkResult(result: ConfigResult, c: Case): void {
  const issues = result.ok ? result.config.warnings : [...result.errors, ...result.warnings];
  if (!result.ok) assert.ok(result.errors.length > 0, `${c.kind}: rejected without an error`);
  for (const issue of issues) {
    assert.equal(typeof issue.message, 'string');
    assert.ok(issue.message.trim() !== '', `${c.kind}: an issue without a message: ${JSON.stringify(issue)}`);
    assert.ok(issue.path !== '' || issue.line !== undefined, `${c.kind}: an issue with neither a path nor a line: ${JSON.stringify(issue)}`);
    const line = formatIssue(SOURCE, issue);
    assert.ok(line.startsWith(`${SOURCE}:`), `${c.kind}: ${JSON.stringify(line)} does not name the file`);
    assert.ok(!/[\n\r]/.test(line), `${c.kind}: ${JSON.stringify(line)} is more than one line`);
  }
}

describe('config files from a fuzzer', { timeout: 60_000 + RUNS * 400 }, () => {
  const dir = mkdtemp(path.join(tmpdir(), 'drainplane-config-fuzz-'));
  after(async () => rm(await dir, { recursive: true, force: true }));
  /** One rejected file of each kind (example document or text, random document, text or bytes), for the CLI test. */
  const rejected = new Map<string, Case>();
  let tried = 0;

  const property = (arb: fc.Arbitrary<Case>) =>
    fc.property(arb, (c) => {
      tried++;
      const text = c.bytes.toString('utf8'); // as the CLI and the daemon read a file
      let result: ConfigResult;
      try {
        result = parseConfig(text, SOURCE);
      } catch (err) {
        assert.fail(`${c.kind}: parseConfig threw ${(err as Error).stack}\ninput: ${JSON.stringify(text.slice(0, 2000))}`);
      }
      checkResult(result, c);
      const family = c.kind.split(':')[0]!;
      if (!result.ok && !rejected.has(family)) rejected.set(family, c);
    });

  test('mutated example configs: errors or a valid config, never a throw', () => {
    fc.assert(property(fromExample), { numRuns: RUNS, ...REPLAY });
    fc.assert(property(textOfExample), { numRuns: RUNS, ...REPLAY });
  });

  test('random YAML documents, text and bytes: errors or a valid config, never a throw', () => {
    fc.assert(property(randomDocument), { numRuns: RUNS * 2 });
    console.log(`config fuzz: ${tried} inputs tried`);
  });

  test('drainplane validate on rejected fuzzed files: exit 1, one error line per issue naming the file, no stack trace', async () => {
    assert.ok(rejected.size >= 4, `rejected files of ${rejected.size} kinds`);
    // Each run loads Envoy's protos: a handful of files is enough to see how errors are printed.
    const picked = ['example document', 'example text', 'random document', 'random bytes'].flatMap((k) => rejected.get(k) ?? []);
    const folder = await dir;
    const runs = picked.map(async (c, i) => {
      const file = path.join(folder, `fuzzed-${i}.yaml`);
      await writeFile(file, c.bytes);
      return { c, file, res: await runCli(['validate', '--config', file], 60_000) };
    });
    for (const { c, file, res } of await Promise.all(runs)) {
      assert.equal(res.code, 1, `${c.kind}: exit ${res.code}\n${res.stderr}`);
      const errors = res.stderr.split('\n').filter((l) => l.startsWith('error: '));
      assert.ok(errors.length > 0, `${c.kind}: no error line\n${res.stderr}`);
      for (const e of errors) assert.ok(e.startsWith(`error: ${file}:`), `${c.kind}: ${e}`);
      assert.doesNotMatch(res.stderr, /^\s+at .+:\d+:\d+\)?$/m, `${c.kind}: a stack trace\n${res.stderr}`);
      assert.equal(res.stdout, '');
    }
  });
});
