/**
 * Summarizes a V8 CPU profile (node --cpu-prof) of the daemon, per phase of the benchmark:
 * where the samples of each phase went, by function (self and inclusive time) and by file,
 * with compiled locations mapped back to the TypeScript sources through their source maps.
 *
 *   node dist/bench/fleet/profile-summary.js PROFILE.cpuprofile [--marks marks-PID.json] [--top 25]
 *
 * Without --marks, the whole profile is one phase.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Window {
  name: string;
  startUs: number;
  endUs: number;
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const maps = new Map<string, SourceMap | null>();

function sourceMap(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    const mapFile = `${file}.map`;
    map = existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload) : null;
    maps.set(file, map);
  }
  return map;
}

/** `path/in/repo.ts:line function`, through the source map when there is one. */
function describe(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  let file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  let line = frame.lineNumber + 1;
  if (file.startsWith('/') && file.endsWith('.js')) {
    const entry = sourceMap(file)?.findEntry(frame.lineNumber, frame.columnNumber);
    if (entry && 'originalSource' in entry && entry.originalSource) {
      file = path.resolve(
        path.dirname(file),
        entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : entry.originalSource,
      );
      line = entry.originalLine + 1;
    }
  }
  const shown = file.startsWith(`${REPO}/`) ? path.relative(REPO, file) : file.replace(/^.*node_modules\//, 'node_modules/');
  return `${shown}:${line} ${name}`;
}

function fileOf(frame: CallFrame): string {
  const d = describe(frame);
  const colon = d.lastIndexOf(':', d.indexOf(' ') >= 0 ? d.indexOf(' ') : d.length);
  return frame.url ? d.slice(0, colon) : d;
}

export function summarize(profile: CpuProfile, windows: readonly Window[], top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out: string[] = [];
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push((t += d));
  for (const w of windows) {
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    const files = new Map<string, number>();
    let total = 0;
    let idle = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      const at = times[i]!;
      if (at < w.startUs || at > w.endUs) continue;
      const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
      const node = byId.get(profile.samples[i]!)!;
      const frame = node.callFrame;
      if (frame.functionName === '(idle)') {
        idle += dt;
        continue;
      }
      total += dt;
      const key = describe(frame);
      self.set(key, (self.get(key) ?? 0) + dt);
      const file = fileOf(frame);
      files.set(file, (files.get(file) ?? 0) + dt);
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const k = describe(byId.get(id)!.callFrame);
        if (k === '(root)' || seen.has(k)) continue;
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
      }
    }
    const rows = (m: Map<string, number>): string[] =>
      [...m]
        .sort(([, a], [, b]) => b - a)
        .slice(0, top)
        .map(([k, v]) => `  ${v.toFixed(0).padStart(7)} ms  ${((100 * v) / Math.max(total, 1)).toFixed(1).padStart(5)}%  ${k}`);
    out.push(
      `== ${w.name}: ${((w.endUs - w.startUs) / 1000).toFixed(0)} ms wall, ${total.toFixed(0)} ms on the main thread, ${idle.toFixed(0)} ms idle`,
      'self time by function:',
      ...rows(self),
      'self time by file:',
      ...rows(files),
      'inclusive time by function:',
      ...rows(inclusive),
      '',
    );
  }
  return out.join('\n');
}

function main(): void {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { marks: { type: 'string' }, top: { type: 'string' } },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: node dist/bench/fleet/profile-summary.js PROFILE.cpuprofile [--marks marks-PID.json] [--top 25]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const windows: Window[] = values.marks
    ? (JSON.parse(readFileSync(values.marks, 'utf8')) as { marks: Window[] }).marks
    : [{ name: 'whole profile', startUs: profile.startTime, endUs: profile.endTime }];
  process.stdout.write(summarize(profile, windows, Number(values.top ?? 25)));
}

main();
