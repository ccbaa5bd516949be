/** The zero-error scenario's results: a markdown table for people, a JSON record for the repository. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { PhaseResult, ZeroErrorResult } from './scenario.js';

export interface Environment {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  platform: string;
  node: string;
  packages: Record<string, string>;
}

/** The machine and the gRPC libraries the numbers were measured with. */
export function environment(): Environment {
  const packages: Record<string, string> = {};
  for (const name of ['@grpc/grpc-js', '@grpc/grpc-js-xds']) {
    try {
      const file = new URL(`../../../node_modules/${name}/package.json`, import.meta.url);
      packages[name] = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    } catch {
      packages[name] = 'unknown';
    }
  }
  return {
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    packages,
  };
}

const n = (value: number): string => value.toLocaleString('en-US');

const counts = (byKey: Record<string, number>): string => {
  const entries = Object.entries(byKey).sort(([, x], [, y]) => y - x);
  return entries.length === 0 ? '—' : entries.map(([key, count]) => `${key} ${n(count)}`).join(', ');
};

function column(p: PhaseResult, channels: number): string[] {
  const servedBy = Object.entries(p.unary.servedBy)
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([node, count]) => `${node} ${n(count)}`)
    .join(', ');
  return [
    `${p.target}: ${p.action}`,
    n(p.unary.sent),
    servedBy || '—',
    n(p.unary.failed),
    counts(p.unary.byCode),
    n(p.unary.refused),
    n(p.unary.resets),
    `${n(p.streams.failed)} of ${n(p.streams.opened)} (${n(p.streams.onTarget)} were on ${p.target})`,
    `${n(p.connectionsReset)} of ${n(channels)} client connections`,
    p.timeToDrainedMs === null ? '— (no drain)' : `${(p.timeToDrainedMs / 1000).toFixed(2)} s`,
  ];
}

const ROWS = [
  'replica',
  'unary RPCs sent',
  'answered by',
  'unary RPCs failed',
  'failed, by status code',
  'failed: refused unprocessed (REFUSED_STREAM after GOAWAY)',
  'failed: cut by a connection reset',
  'streams failed',
  'connections reset',
  'time to drained (first drain request → 0 connections)',
];

/** Both phases side by side, with the load that produced them. */
export function markdownTable(result: ZeroErrorResult): string {
  const o = result.options;
  const drain = column(result.drain, o.channels);
  const abrupt = column(result.abruptStop, o.channels);
  const lines = [
    `Load: ${n(o.concurrency)} concurrent unary RPCs over ${o.channels} long-lived round-robin channels to 2 replicas; ` +
      `${o.streams} server streams (${o.streamReplies} × ${o.streamIntervalMs} ms) opened before each event; ` +
      `client retries: ${o.transparentRetries ? 'transparent only (refused unprocessed, or never sent)' : 'none (grpc.enable_retries: 0)'}.`,
    '',
    '| | drain through drainplane | abrupt stop (baseline) |',
    '| --- | ---: | ---: |',
    ...ROWS.map((row, i) => `| ${row} | ${drain[i]} | ${abrupt[i]} |`),
  ];
  return lines.join('\n');
}

/** `zero-error-YYYY-MM-DD.json`, the date of the run in UTC. */
export function resultFileName(result: ZeroErrorResult): string {
  return `zero-error-${result.startedAt.slice(0, 10)}.json`;
}

export function resultRecord(result: ZeroErrorResult, env: Environment): object {
  return { benchmark: 'zero-error', environment: env, ...result };
}
