/**
 * The drainplane processes of one run: a single daemon on its file store, or replicas sharing a
 * throwaway etcd on loopback (test/support/etcd.ts). Nodes connect to the first; the others
 * follow it through etcd and take the nodes over when it dies.
 */
import path from 'node:path';
import { TestEtcd } from '../../test/support/etcd.js';
import { DaemonProcess, type DaemonProcessOptions } from './daemon-process.js';

export type StoreKind = 'file' | 'etcd';

/** What etcd served so far: gRPC calls by method (a watch stream counts when it ends), bytes in and out. */
export interface EtcdTraffic {
  readonly calls: Readonly<Record<string, number>>;
  readonly receivedBytes: number;
  readonly sentBytes: number;
}

export class ReplicaFleet {
  private constructor(
    readonly daemons: readonly DaemonProcess[],
    private readonly etcd: TestEtcd | undefined,
  ) {}

  /** `replicas` daemons (more than one needs etcd), started one after the other. */
  static async start(store: StoreKind, replicas: number, options: Omit<DaemonProcessOptions, 'etcd'>): Promise<ReplicaFleet> {
    if (store === 'file') return new ReplicaFleet([await DaemonProcess.start(options)], undefined);
    const etcd = await TestEtcd.start();
    const daemons: DaemonProcess[] = [];
    try {
      for (let i = 1; i <= replicas; i++) {
        const etcdOptions = { endpoint: etcd.endpoint, prefix: '/bench/', replicaId: `replica-${i}` };
        daemons.push(await DaemonProcess.start({ ...options, stateDir: path.join(options.stateDir, `replica-${i}`), etcd: etcdOptions }));
      }
    } catch (err) {
      await Promise.all(daemons.map((d) => d.kill()));
      await etcd.close();
      throw err;
    }
    return new ReplicaFleet(daemons, etcd);
  }

  /** The replica the nodes connect to and the API calls go to. */
  get first(): DaemonProcess {
    return this.daemons[0]!;
  }

  get store(): StoreKind {
    return this.etcd ? 'etcd' : 'file';
  }

  /** Each live replica's CPU seconds so far (NaN for a dead one). */
  cpuSeconds(): Promise<number[]> {
    const alive = (d: DaemonProcess): boolean => d.child.exitCode === null && d.child.signalCode === null;
    return Promise.all(this.daemons.map(async (d) => (alive(d) ? (await d.metrics()).cpuSeconds : Number.NaN)));
  }

  /** etcd's counters (its /metrics); undefined on the file store. */
  async etcdTraffic(): Promise<EtcdTraffic | undefined> {
    if (!this.etcd) return undefined;
    const text = await (await fetch(`http://${this.etcd.endpoint}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const calls: Record<string, number> = {};
    let receivedBytes = 0;
    let sentBytes = 0;
    for (const line of text.split('\n')) {
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      const method = /^grpc_server_handled_total\{.*grpc_method="(\w+)"/.exec(line)?.[1];
      if (method !== undefined && value > 0) calls[method] = (calls[method] ?? 0) + value;
      if (line.startsWith('etcd_network_client_grpc_received_bytes_total ')) receivedBytes = value;
      if (line.startsWith('etcd_network_client_grpc_sent_bytes_total ')) sentBytes = value;
    }
    return { calls, receivedBytes, sentBytes };
  }

  /** etcd watches the replicas lost and read again in full. */
  watchRestarts(): number {
    return this.daemons.reduce((sum, d) => sum + d.eventCount('store_watch_restarted'), 0);
  }

  /** Stops every replica (the first one's CPU profile is written on the way), then etcd. */
  async stop(): Promise<void> {
    await Promise.all(this.daemons.map((d) => d.stop()));
    await this.etcd?.close();
  }
}
