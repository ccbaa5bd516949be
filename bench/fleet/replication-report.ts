/** The fleet benchmark's table for replicas on an etcd store: sync cost per replica, failover. */
import type { SizeResult } from './report.js';

const ms = (v: number): string => (Number.isNaN(v) ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
const us = (cpuSeconds: number, nodes: number): string => `${((cpuSeconds * 1e6) / nodes).toFixed(0)} µs`;

/** A table of the sizes run on etcd; empty when none was. */
export function replicationMarkdown(sizes: readonly SizeResult[]): string {
  const rows = sizes.flatMap((s) => {
    const d = s.drainplane;
    const r = d?.replication;
    if (!d || !r) return [];
    const total = r.syncCpuSecondsByReplica.reduce((a, b) => a + b, 0);
    const f = r.failover;
    const go = s.goControlPlane?.failover;
    return [
      `| ${s.nodes.toLocaleString('en-US')} | ${r.replicas} | ${ms(d.sync.totalMs)} | ${us(total, s.nodes)} | ` +
        `${r.syncCpuSecondsByReplica.map((c) => us(c, s.nodes)).join(' + ')} | ${ms(d.drain.latency.p99Ms)} | ${r.watchRestarts} | ` +
        (f
          ? `${ms(f.listenersAgain.p50Ms)} | ${ms(f.listenersAgain.p99Ms)} | ${ms(f.listenersAgain.maxMs)} | ${ms(f.survivorCpuSeconds * 1000)} |`
          : '— | — | — | — |') +
        (go ? ` ${ms(go.listenersAgain.p50Ms)} | ${ms(go.listenersAgain.p99Ms)} | ${ms(go.survivorCpuSeconds * 1000)} |` : ' — | — | — |'),
    ];
  });
  if (rows.length === 0) return '';
  return [
    'etcd store: connect + sync on replica 1, daemon CPU per node over it (all replicas, then each), drain p99, etcd watch restarts; ' +
      'failover: replica 1 SIGKILLed, each node back on replica 2 after a 0–500 ms jittered retry, from the kill to its listeners ACKed; ' +
      'go-control-plane: the same failover between two of its processes, in the same run.',
    '',
    '| Nodes | Replicas | Connect + sync | CPU / node | CPU / node by replica | Drain p99 | Watch restarts | Failover p50 | Failover p99 | Failover max | Replica 2 CPU (failover) | go-control-plane failover p50 | p99 | its CPU |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}
