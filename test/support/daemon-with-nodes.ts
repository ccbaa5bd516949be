/** A test daemon (demo config) with simulated nodes connected, each sent both demo listeners. */
import type { DaemonOptions } from '../../src/daemon.js';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { demoConfig } from './fleet-configs.js';
import { SimNode } from './sim-node.js';

export interface DaemonWithNodes {
  readonly d: TestDaemon;
  readonly nodes: readonly SimNode[];
  /** Closes the nodes, then the daemon. */
  close(): Promise<void>;
}

export async function startDaemonWithNodes(ids: readonly string[], options: Partial<DaemonOptions> = {}): Promise<DaemonWithNodes> {
  const d = await startTestDaemon(demoConfig(), options);
  const nodes: SimNode[] = [];
  const close = async (): Promise<void> => {
    for (const node of nodes) node.close();
    await d.close();
  };
  try {
    for (const id of ids) {
      const node = SimNode.connect(d.xdsAddress, id);
      nodes.push(node);
      await node.waitForLds((r) => r.resources.length === 2, 'with both listeners');
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { d, nodes, close };
}
