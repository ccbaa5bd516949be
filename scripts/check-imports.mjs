#!/usr/bin/env node
// Checks the relative imports between the modules of src/ (no dependencies: a few regular
// expressions over the .ts sources). It fails, listing what it found, on
//
//   - an import cycle. `import type` and `export type ... from` count like any other import:
//     a cycle of types still ties the modules' designs together, even though it costs nothing
//     at run time (each listed arrow says which kind it is);
//   - an arrow up the layers: src/resource < src/cache < src/xds < src/fleet < the edges
//     (src/api, src/cli, src/supervisor, src/admin, src/store, src/kube, src/metrics,
//     src/daemon.ts), which sit above them all.
//
// Cycles that can only be broken by a redesign under way are accepted through ALLOWED_ARROWS,
// each with the step that removes it. An entry that no longer names an arrow in a cycle fails
// the check, so the list only shrinks.
//
// `node scripts/check-imports.mjs` (npm run check:imports); exit status 1 on a finding.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const srcDir = path.join(root, 'src');

// Arrows (importer -> imported, paths under src/) left out of the cycle check until the named
// redesign step removes them, one comment per entry saying which step, e.g.
//   // Goes when the store interfaces move into src/fleet/.
//   { from: 'store/state-store.ts', to: 'fleet/drain/model.ts' },
// Empty: no cycle needs one today.
const ALLOWED_ARROWS = [];

// Layers, lowest first: a module may import its own layer or a lower one, never a higher one.
// Folders not listed (fs, net, tls, gauges, telemetry) are not ranked; only the cycle check
// applies to them.
const LAYERS = [['resource'], ['cache'], ['xds'], ['fleet'], ['api', 'cli', 'supervisor', 'admin', 'store', 'kube', 'metrics', 'daemon.ts']];

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const rel = (file) => path.relative(srcDir, file).split(path.sep).join('/');

/** The relative imports of one source: [{ spec, typeOnly }]. */
function importsOf(text) {
  // Comments out of the way, so an import quoted in a comment is not an arrow.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^;'"]*?)\s+from\s+['"]([^'"]+)['"]/gm;
  for (const m of code.matchAll(statement)) {
    const names = m[3].trim();
    // `import { type A, type B } from` imports types only as well.
    const allTyped =
      /^\{[\s\S]*\}$/.test(names) &&
      names
        .slice(1, -1)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => /^type\s/.test(s));
    found.push({ spec: m[4], typeOnly: Boolean(m[2]) || allTyped });
  }
  for (const m of code.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push({ spec: m[1], typeOnly: false });
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ spec: m[1], typeOnly: false });
  return found.filter((i) => i.spec.startsWith('.'));
}

function resolve(fromFile, spec) {
  const base = path.resolve(path.dirname(fromFile), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c));
}

// The graph: module -> Map(imported module -> typeOnly, false when any import of it is a value).
const graph = new Map();
const problems = [];
for (const file of sourceFiles(srcDir).sort()) {
  const from = rel(file);
  const arrows = new Map();
  for (const { spec, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
    const target = resolve(file, spec);
    if (!target) {
      problems.push(`${from}: cannot resolve '${spec}'`);
      continue;
    }
    if (!target.startsWith(srcDir + path.sep)) continue;
    const to = rel(target);
    arrows.set(to, (arrows.get(to) ?? true) && typeOnly);
  }
  graph.set(from, arrows);
}

const arrowCount = [...graph.values()].reduce((n, a) => n + a.size, 0);
const arrowText = (from, to) => `${from} -> ${to}${graph.get(from)?.get(to) ? ' (type)' : ''}`;

// Arrows up the layers.
const layerOf = (module) => {
  const top = module.split('/')[0];
  const i = LAYERS.findIndex((names) => names.includes(top));
  return i < 0 ? undefined : i;
};
const upward = [];
for (const [from, arrows] of graph) {
  for (const to of arrows.keys()) {
    const a = layerOf(from);
    const b = layerOf(to);
    if (a !== undefined && b !== undefined && b > a) upward.push(arrowText(from, to));
  }
}

// Cycles: Tarjan's strongly connected components, over the graph without the allowed arrows;
// each arrow inside a component is reported in the shortest cycle through it.
const allowedKeys = new Set(ALLOWED_ARROWS.map(({ from, to }) => `${from} -> ${to}`));
const next = (m) => [...(graph.get(m)?.keys() ?? [])].filter((to) => !allowedKeys.has(`${m} -> ${to}`));

function components(nodes, edges) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  // Iterative, so a deep import chain cannot overflow the call stack.
  for (const start of nodes) {
    if (idx.has(start)) continue;
    const work = [[start, 0]];
    idx.set(start, index);
    low.set(start, index);
    index++;
    stack.push(start);
    on.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      const succ = edges(v);
      if (i < succ.length) {
        frame[1]++;
        const w = succ[i];
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index);
          index++;
          stack.push(w);
          on.add(w);
          work.push([w, 0]);
        } else if (on.has(w)) {
          low.set(v, Math.min(low.get(v), idx.get(w)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) === idx.get(v)) {
        const comp = [];
        let w;
        do {
          w = stack.pop();
          on.delete(w);
          comp.push(w);
        } while (w !== v);
        out.push(comp);
      }
    }
  }
  return out;
}

/** The shortest path from `from` to `to` inside `members`, as a list of modules ([] when none). */
function shortestPath(from, to, members, edges = next) {
  const prev = new Map([[from, null]]);
  const queue = [from];
  while (queue.length > 0) {
    const v = queue.shift();
    if (v === to) break;
    for (const w of edges(v)) {
      if (members.has(w) && !prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  if (!prev.has(to)) return [];
  const path = [];
  for (let v = to; v !== null; v = prev.get(v)) path.unshift(v);
  return path;
}

const cycles = [];
const seen = new Set();
const inCycle = new Set();
for (const comp of components([...graph.keys()], next)) {
  const members = new Set(comp);
  if (comp.length === 1 && !next(comp[0]).includes(comp[0])) continue;
  for (const from of [...comp].sort()) {
    for (const to of next(from)
      .filter((w) => members.has(w))
      .sort()) {
      inCycle.add(`${from} -> ${to}`);
      const cycle = [from, ...shortestPath(to, from, members).slice(0, -1)];
      // One rotation per cycle: start at its smallest module.
      const start = cycle.indexOf([...cycle].sort()[0]);
      const key = [...cycle.slice(start), ...cycle.slice(0, start)];
      if (seen.has(key.join(' '))) continue;
      seen.add(key.join(' '));
      cycles.push(key);
    }
  }
}

// Allowed arrows that no longer take part in a cycle (or no longer exist) are stale.
const stale = [];
for (const { from, to } of ALLOWED_ARROWS) {
  if (!graph.get(from)?.has(to)) {
    stale.push(`${from} -> ${to}: no such import`);
    continue;
  }
  // Is there still a way from `to` back to `from`, allowed arrows included?
  const all = (m) => [...(graph.get(m)?.keys() ?? [])];
  if (shortestPath(to, from, new Set(graph.keys()), all).length === 0) {
    stale.push(`${from} -> ${to}: no longer in a cycle`);
  }
}

let failed = false;
if (problems.length > 0) {
  failed = true;
  console.error(`check-imports: ${problems.length} unresolved import(s):`);
  for (const p of problems) console.error(`  ${p}`);
}
if (cycles.length > 0) {
  failed = true;
  console.error(`check-imports: ${cycles.length} import cycle(s):`);
  // A module that closes many cycles would print hundreds of them; the first ones show the arrows.
  const SHOWN = 40;
  if (cycles.length > SHOWN) console.error(`  (the ${SHOWN} shortest, then the count of the rest)`);
  cycles.sort((a, b) => a.length - b.length);
  for (const c of cycles.slice(0, SHOWN)) {
    const ring = [...c, c[0]];
    console.error(`  ${ring.map((m, i) => (i === 0 ? m : `${graph.get(ring[i - 1]).get(m) ? '-(type)->' : '->'} ${m}`)).join(' ')}`);
  }
  if (cycles.length > SHOWN) console.error(`  ... and ${cycles.length - SHOWN} more`);
}
if (upward.length > 0) {
  failed = true;
  console.error(`check-imports: ${upward.length} import(s) up the layers (${LAYERS.map((l) => l.join('|')).join(' < ')}):`);
  for (const u of upward) console.error(`  ${u}`);
}
if (stale.length > 0) {
  failed = true;
  console.error('check-imports: allowed arrows to take off ALLOWED_ARROWS in scripts/check-imports.mjs:');
  for (const s of stale) console.error(`  ${s}`);
}
if (failed) process.exit(1);
console.log(
  `check-imports: ${graph.size} modules, ${arrowCount} arrows, no cycles, no imports up the layers` +
    (ALLOWED_ARROWS.length > 0 ? ` (${ALLOWED_ARROWS.length} allowed arrow(s))` : ''),
);
