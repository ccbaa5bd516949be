/**
 * A throwaway etcd for tests: Debian's etcd-server binary on 127.0.0.1, free ports, a temp data
 * folder. `restart` stops it and starts it again on the same ports and data (nothing is lost).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { etcdClient } from '../../src/store/etcd/client.js';

/** Where etcd is looked for: $ETCD_BIN, else the etcd-server package's path. */
export const ETCD_BIN = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';

export const NO_ETCD = `skipped: no etcd binary at ${ETCD_BIN} (apt-get install etcd-server)`;

export function etcdInstalled(): boolean {
  try {
    accessSync(ETCD_BIN, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A port no one listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export class TestEtcd {
  #child: ChildProcess | undefined;
  #log = '';

  private constructor(
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
  ) {}

  static async start(): Promise<TestEtcd> {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'drainplane-etcd-'));
    const etcd = new TestEtcd(dataDir, await freePort(), await freePort());
    await etcd.#run();
    return etcd;
  }

  /** host:port for clients. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  /** Stops etcd (SIGTERM); its data stays. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.#child = undefined;
  }

  /** Starts it again on the same ports and data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#run();
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  async #run(): Promise<void> {
    const client = `http://127.0.0.1:${this.clientPort}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const child = spawn(
      ETCD_BIN,
      [
        '--name=test',
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=test=${peer}`,
        '--logger=zap',
        '--log-level=error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.on('data', (c: Buffer) => (this.#log = (this.#log + c.toString()).slice(-4000)));
    this.#child = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${this.#log}`);
      try {
        const res = await fetch(`${client}/health`);
        if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`etcd did not become healthy in 20 s: ${this.#log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** One etcd for the tests of a describe() and the clients they open, all closed after them. */
export interface SuiteEtcd {
  readonly etcd: TestEtcd;
  /** A client of this etcd (or of `endpoint`, a proxy in front of it). */
  client(endpoint?: string): Promise<Etcd3>;
}

/** Registers the suite's before and after hooks: call it inside describe(). */
export function suiteEtcd(): SuiteEtcd {
  let etcd: TestEtcd | undefined;
  const clients: Etcd3[] = [];
  before(async () => {
    etcd = await TestEtcd.start();
  });
  after(async () => {
    for (const c of clients) c.close();
    await etcd?.close();
  });
  const started = (): TestEtcd => {
    if (!etcd) throw new Error('the suite has not started its etcd yet');
    return etcd;
  };
  return {
    get etcd() {
      return started();
    },
    async client(endpoint = started().endpoint) {
      const c = await etcdClient({ endpoints: [endpoint] });
      clients.push(c);
      return c;
    },
  };
}
