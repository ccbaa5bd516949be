/**
 * Starts a real drainplane daemon for a test: a config file in a temp folder, free loopback
 * ports, and a silent logger. `rewrite` swaps the config file and reloads it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import pino from 'pino';
import { Daemon, type DaemonOptions, type ReloadResult } from '../../src/daemon.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { waitUntil } from './wait.js';

export interface TestDaemon {
  readonly daemon: Daemon;
  /** host:port of the xDS server. */
  readonly xdsAddress: string;
  /** http://127.0.0.1:port of the API. */
  readonly apiUrl: string;
  readonly configFile: string;
  /** Writes a new config file and reloads it. */
  rewrite(yaml: string): Promise<ReloadResult>;
  close(): Promise<void>;
}

export async function startTestDaemon(yaml: string, options: Partial<DaemonOptions> = {}): Promise<TestDaemon> {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-test-'));
  const configFile = path.join(dir, 'drainplane.yaml');
  await writeFile(configFile, yaml);
  const daemon = await Daemon.start({
    configFile,
    xdsHost: '127.0.0.1',
    xdsPort: 0,
    apiHost: '127.0.0.1',
    apiPort: 0,
    stateDir: path.join(dir, 'state'),
    logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }),
    // Tests reload explicitly; the watcher has its own test.
    watchConfig: false,
    ...options,
  });
  return {
    daemon,
    xdsAddress: `127.0.0.1:${daemon.xdsPort}`,
    apiUrl: `http://127.0.0.1:${daemon.apiPort}`,
    configFile,
    async rewrite(next) {
      await writeFile(configFile, next);
      return daemon.reload();
    },
    async close() {
      await daemon.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when the node has ACKed the listener version drainplane wants it to have. */
export function waitForLdsAck(d: TestDaemon, nodeId: string, timeoutMs = 5_000): Promise<void> {
  return waitUntil(
    `${nodeId} to ACK its listeners`,
    () => {
      const wanted = d.daemon.cache.snapshot(nodeId)?.get(TypeUrl.Listener).version;
      return wanted !== undefined && d.daemon.nodes.get(nodeId)?.types.lds?.acked?.version === wanted;
    },
    timeoutMs,
  );
}

/**
 * A daemon for the tests of one suite: started before them, closed after them. Call it inside
 * describe(); the function it returns gives the daemon to the tests.
 */
export function daemonForSuite(yaml: string, options: Partial<DaemonOptions> = {}): () => TestDaemon {
  let d: TestDaemon | undefined;
  before(async () => {
    d = await startTestDaemon(yaml, options);
  });
  after(() => d?.close());
  return () => {
    if (!d) throw new Error('the suite daemon has not started');
    return d;
  };
}
