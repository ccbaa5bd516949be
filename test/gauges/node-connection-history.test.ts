import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeConnectionHistory } from '../../src/gauges/node-connection-history.js';

const report = (nodeId: string, at: number, ...counts: number[]) => ({
  nodeId,
  at: new Date(at),
  listeners: new Map(counts.map((c, i) => [`l${i}`, c])),
});

test('a node history keeps a sample per change, one per interval while steady, and stays bounded', () => {
  const history = new NodeConnectionHistory({ samplesPerNode: 3, nodes: 2, intervalMs: 1000 });
  history.record(report('a', 0, 2, 3));
  history.record(report('a', 100, 2, 3)); // steady within the interval: no sample
  history.record(report('a', 200, 1, 0));
  history.record(report('a', 1300, 1, 0)); // steady, an interval later
  assert.deepEqual(history.samples('a'), [
    [0, 5],
    [200, 1],
    [1300, 1],
  ]);
  history.record(report('a', 1400, 0));
  assert.deepEqual(
    history.samples('a').map((s) => s[1]),
    [1, 1, 0],
    'the oldest sample makes room',
  );
  history.record(report('b', 0, 1));
  history.record(report('c', 0, 1));
  assert.deepEqual(history.samples('a'), [], 'the node reported longest ago makes room');
  assert.equal(history.samples('c').length, 1);
});
