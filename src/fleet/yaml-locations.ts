import YAML, { LineCounter, type Document } from 'yaml';
import type { ConfigIssue } from './config-issue.js';
import { readPlainYaml } from './plain-yaml.js';

/** Line and column (1-based) of a place in a YAML document. */
export interface Location {
  readonly line: number;
  readonly column: number;
}

/** A YAML (or JSON) document read from text, and where each path of it is in that text. */
export type LocatedYaml =
  | { readonly ok: true; readonly value: unknown; readonly locate: (path: string) => Location | undefined }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[] };

/**
 * Reads a YAML (or JSON) text: syntax errors, duplicate keys and bad aliases are issues with their
 * line and column; otherwise the value, and a locator of its paths. Plain documents are read by
 * the fast reader (plain-yaml.ts) and located only when something asks where a path is, which
 * only issues do; the others, and every error, by the reference reader.
 */
export function readLocatedYaml(text: string): LocatedYaml {
  const plain = readPlainYaml(text);
  if (plain) return { ok: true, value: plain.value, locate: lazyLocator(text) };
  return readReferenceYaml(text);
}

/** A locator that reads the text with the reference reader on its first use. */
function lazyLocator(text: string): (path: string) => Location | undefined {
  let locate: ((path: string) => Location | undefined) | undefined;
  return (path) => {
    if (!locate) {
      const read = readReferenceYaml(text);
      // The fast reader accepted the text, so the reference reader does: see plain-yaml.ts.
      locate = read.ok ? read.locate : () => undefined;
    }
    return locate(path);
  };
}

function readReferenceYaml(text: string): LocatedYaml {
  const lines = new LineCounter();
  // Errors carry their line and column as fields: the pretty form would put a multi-line
  // excerpt of the file into the message.
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  const at = (offset: number): Location => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => ({ path: '', message: e.message, ...at(e.pos[0]) })) };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 1000 }), locate: locator(doc, lines) };
  } catch (err) {
    // Only aliases make toJS fail (unresolved, or too many): point at the first one.
    return { ok: false, errors: [{ path: '', message: (err as Error).message, ...at(firstAliasOffset(doc)) }] };
  }
}

/**
 * Issues with the place each path is at; an issue of the document as a whole (not a mapping,
 * say), or of a path not found, is at the document's start.
 */
export function locateIssues(issues: readonly ConfigIssue[], locate: (path: string) => Location | undefined): ConfigIssue[] {
  return issues.map((issue) => ({ ...issue, ...((issue.path === '' ? undefined : locate(issue.path)) ?? locate('') ?? { line: 1, column: 1 }) }));
}

function firstAliasOffset(doc: Document): number {
  let offset = 0;
  YAML.visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return YAML.visit.BREAK;
    },
  });
  return offset;
}

/** Splits `a.b[2]["x.y"].c` into ['a', 'b', 2, 'x.y', 'c']. */
export function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else if (m[3] !== undefined) segments.push(JSON.parse(`"${m[3]}"`) as string);
  }
  return segments;
}

/**
 * Finds where a path points in the document: the node itself, or, for something missing
 * (a required field), the closest enclosing node that exists. A path names Envoy fields by their
 * proto names (`drain_timeout_jitter`); the document may spell them in lowerCamel
 * (`drainTimeoutJitter`), as the proto3 JSON mapping allows.
 */
export function locator(doc: Document, lines: LineCounter): (path: string) => Location | undefined {
  return (path) => {
    const segments = asWritten(doc, pathSegments(path));
    for (let n = segments.length; n >= 0; n--) {
      const node = doc.getIn(segments.slice(0, n), true);
      if (YAML.isNode(node) && node.range) {
        const { line, col } = lines.linePos(node.range[0]);
        return { line, column: col };
      }
      // An unknown key's value node exists; so does the key itself in the parent map.
      if (n > 0) {
        const parent = doc.getIn(segments.slice(0, n - 1), true);
        if (YAML.isMap(parent)) {
          const pair = parent.items.find((p) => YAML.isScalar(p.key) && p.key.value === segments[n - 1]);
          if (pair && YAML.isNode(pair.key) && pair.key.range) {
            const { line, col } = lines.linePos(pair.key.range[0]);
            return { line, column: col };
          }
        }
      }
    }
    return undefined;
  };
}

/** The segments with each field name as the document writes it: as given, or in lowerCamel. */
function asWritten(doc: Document, segments: readonly (string | number)[]): (string | number)[] {
  const out: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (const segment of segments) {
    if (typeof segment === 'string' && YAML.isMap(node)) {
      const { items } = node;
      const keyed = (name: string) => items.find((p) => YAML.isScalar(p.key) && p.key.value === name);
      const camel = segment.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
      const pair = keyed(segment) ?? (camel !== segment ? keyed(camel) : undefined);
      out.push(pair && YAML.isScalar(pair.key) ? String(pair.key.value) : segment);
      node = pair?.value;
    } else {
      out.push(segment);
      node = typeof segment === 'number' && YAML.isSeq(node) ? node.items[segment] : undefined;
    }
  }
  return out;
}
