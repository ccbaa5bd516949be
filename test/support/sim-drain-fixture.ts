/**
 * A test daemon with simulated nodes, for drain tests in one `describe`: hooks that start the
 * daemon, close each test's nodes and cancel its drains after it, and close the daemon; the drain
 * API (drain-api.ts); and `connect`, a simulated node that has received its listeners.
 */
import { after, afterEach, before } from 'node:test';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { drainApi, type DrainApi } from './drain-api.js';
import { SimNode, type SimNodeOptions } from './sim-node.js';

export interface SimDrainFixture extends DrainApi {
  /** The daemon, once the `before` hook has started it. */
  readonly d: TestDaemon;
  /** A simulated node, closed after the test; resolves once it was sent `listeners` listeners. */
  connect(id: string, options?: SimNodeOptions, listeners?: number): Promise<SimNode>;
}

export function simDrainFixture(config: string): SimDrainFixture {
  let daemon: TestDaemon | undefined;
  let nodes: SimNode[] = [];
  const started = (): TestDaemon => {
    if (!daemon) throw new Error('the test daemon is not started yet (its before hook has not run)');
    return daemon;
  };
  before(async () => {
    daemon = await startTestDaemon(config);
  });
  afterEach(async () => {
    for (const n of nodes) n.close();
    nodes = [];
    const drains = started().daemon.drains;
    for (const dr of drains.list()) if (dr.state !== 'cancelled') await drains.cancel(dr.id);
  });
  after(() => daemon?.close());
  return {
    ...drainApi(() => started().apiUrl),
    get d() {
      return started();
    },
    async connect(id, options = {}, listeners = 2) {
      const n = SimNode.connect(started().xdsAddress, id, options);
      nodes.push(n);
      await n.waitForLds((r) => r.resources.length === listeners, `with its ${listeners} listener(s)`);
      return n;
    },
  };
}
