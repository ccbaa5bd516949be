/**
 * A daemon serving the demo config for a describe block, and streams to it that are all
 * closed when the block ends.
 */
import { after, before } from 'node:test';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { demoConfig } from './fleet-configs.js';

export interface StreamFixture<S, O> {
  /** The daemon; set once the block's `before` has run. */
  readonly daemon: TestDaemon;
  /** Opens a stream for node `id` (cluster test-cluster), closed when the block ends. */
  open(id: string, options?: O): S;
}

export function daemonWithStreams<S extends { close(): void }, O = undefined>(
  openStream: (address: string, node: { id: string; cluster: string }, options?: O) => S,
): StreamFixture<S, O> {
  let d: TestDaemon | undefined;
  const streams: S[] = [];
  before(async () => {
    d = await startTestDaemon(demoConfig());
  });
  after(async () => {
    for (const s of streams) s.close();
    await d?.close();
  });
  return {
    get daemon(): TestDaemon {
      if (!d) throw new Error('the daemon starts in before()');
      return d;
    },
    open(id, options) {
      const s = openStream(this.daemon.xdsAddress, { id, cluster: 'test-cluster' }, options);
      streams.push(s);
      return s;
    },
  };
}
