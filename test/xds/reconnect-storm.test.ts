/**
 * Reconnect storm: 2,000 simulated nodes on a few HTTP/2 connections, a drain in effect on a
 * third of them; drainplane is SIGKILLed and restarted, and every node reconnects at once
 * (test/support/reconnect-storm.ts). drainplane stays up, each node gets its own listener set,
 * and RSS stays under 50 KiB per node above the restarted process's own. `npm run soak` runs
 * 10,000 nodes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runReconnectStorm } from '../support/reconnect-storm.js';

const NODES = Number(process.env['STORM_NODES'] ?? 2_000);

test(
  `${NODES} nodes reconnect at once to a restarted drainplane: it stays up, each node gets its own listener set, memory stays bounded`,
  { timeout: 240_000 },
  async () => {
    const r = await runReconnectStorm({ nodes: NODES, log: (l) => console.log(`storm: ${l}`) });
    const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
    console.log(
      `storm: ${r.nodes} nodes (${r.drained} drained) over ${r.connections} connections reconnected in ${r.reconnectMs} ms; ` +
        `RSS ${mib(r.baselineRssBytes)} before, ${mib(r.rssBytes)} after (bound ${mib(r.rssBoundBytes)})`,
    );
    assert.ok(r.daemonAlive, 'drainplane is up and answers /healthz after the storm');
    assert.deepEqual(r.wrong, [], `${r.wrongCount} node(s) got a wrong listener set`);
    assert.equal(r.drainState, 'completed', 'the drain survived the restart');
    assert.ok(r.rssBytes < r.rssBoundBytes, `RSS ${r.rssBytes} bytes is over ${r.rssBoundBytes}`);
  },
);
