/**
 * A drain manager as the daemon builds it, on the file store in a temporary folder, with one
 * served node whose listeners the test reads, without the xDS server in between.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { NodeIdentity } from '../../src/cache/node.js';
import { SnapshotCache } from '../../src/cache/snapshot-cache.js';
import { DesiredState } from '../../src/fleet/desired-state/desired-state.js';
import { DrainManager, type DrainManagerDeps } from '../../src/fleet/drain/manager.js';
import type { Drain } from '../../src/fleet/drain/model.js';
import type { DrainRequest } from '../../src/fleet/drain/spec.js';
import type { DrainStore, SaveOptions } from '../../src/fleet/ports/drain-store.js';
import { NodeRegistry } from '../../src/fleet/registry.js';
import { TypeUrl } from '../../src/resource/type-urls.js';
import { FileDrainStore } from '../../src/store/file/drain-files.js';
import type { StreamInfo } from '../../src/xds/events.js';
import { parsedConfig } from './desired-state.js';
import { demoConfig } from './fleet-configs.js';

/** The file store, with saves that fail before anything is written while `full` is set. */
export class FullDiskStore implements DrainStore {
  full = false;
  constructor(readonly files: FileDrainStore) {}
  load(): Promise<Drain[]> {
    return this.files.load();
  }
  watch(): () => void {
    return () => {};
  }
  async save(drains: readonly Drain[], options?: SaveOptions): Promise<void> {
    if (this.full) throw new Error('ENOSPC: no space left on device, write');
    await this.files.save(drains, options);
  }
}

/** Every drain file's content, in one text: `{"drains":[...]}`, in the order of their ids. */
async function drainFiles(files: FileDrainStore): Promise<string> {
  const texts = [...(await files.folder.readAll())].sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify({ drains: texts.map(([, text]) => (JSON.parse(text) as { drain: unknown }).drain) });
}

export const ALL_LISTENERS = ['egress_http', 'ingress_http'];

export interface ManagerFixture {
  readonly store: FullDiskStore;
  readonly drains: DrainManager;
  /** The listeners node "a" is sent now. */
  listeners(): string[];
  onDisk(): Promise<string>;
  /** Node "a" ACKs the listener set it is meant to have now. */
  ack(): void;
  create(request: DrainRequest): Promise<Drain>;
  close(): Promise<void>;
}

/** A node served as the xDS server serves it: registered, joined to drains, given its snapshot, watched. */
export interface ServedNode {
  /** The listeners it is sent now. */
  listeners: () => string[];
  /** It ACKs the listener set it is meant to have now. */
  ack: () => void;
}

let lastStreamId = 0;

/**
 * A SotW ADS stream of an Envoy 1.40.0 node, as the xDS server reports it opening: the node is
 * registered, joins the drains that select it, and is given its snapshot (in the daemon's order).
 */
export function openServedStream(
  parts: { readonly nodes: NodeRegistry; readonly drains: DrainManager; readonly desired: DesiredState },
  id: string,
  cluster: string,
): StreamInfo {
  const node: NodeIdentity = {
    id,
    cluster,
    metadata: {},
    locality: { region: '', zone: '', subZone: '' },
    userAgentName: 'envoy',
    userAgentVersion: '1.40.0',
  };
  const stream: StreamInfo = { streamId: ++lastStreamId, node, protocol: 'sotw', aggregated: true, peer: 'test' };
  parts.nodes.events.streamOpened!(stream);
  parts.drains.nodeConnected(node);
  parts.desired.events.streamOpened(stream);
  return stream;
}

/** What a test may give the manager beyond the fixture's parts. */
export type ManagerOptions = Pick<DrainManagerDeps, 'retention' | 'now' | 'admin' | 'saveProgress'>;

/** A drain manager on `store`, and a way to connect nodes of the demo config's cluster. */
export function drainManagerOn(store: DrainStore, options: ManagerOptions = {}) {
  const cache = new SnapshotCache();
  const desired = new DesiredState({ cache, config: parsedConfig(demoConfig()) });
  const nodes = new NodeRegistry();
  const drains = new DrainManager({
    store,
    nodes,
    desired,
    connections: { latest: () => undefined },
    logger: pino({ level: 'silent' }),
    ...options,
  });
  const connect = (id: string): ServedNode => {
    const stream = openServedStream({ nodes, drains, desired }, id, 'test-cluster');
    const { node } = stream;
    let sent: string[] = [];
    cache.watch(node.id, (s) => (sent = s.get(TypeUrl.Listener).sorted.map((r) => r.name)));
    return {
      listeners: () => sent,
      ack: () => nodes.events.acked!(stream, TypeUrl.Listener, desired.snapshot(id)!.get(TypeUrl.Listener).version, 'n'),
    };
  };
  return { drains, connect };
}

/** A drain manager on the file store in a temporary folder, with node "a" connected. */
export async function managerFixture(options: ManagerOptions = {}): Promise<ManagerFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-manager-'));
  const store = new FullDiskStore(new FileDrainStore(dir));
  const { drains, connect } = drainManagerOn(store, options);
  await drains.load();
  const node = connect('a');
  return {
    store,
    drains,
    listeners: node.listeners,
    onDisk: () => drainFiles(store.files),
    ack: node.ack,
    async create(request) {
      const result = await drains.create(request);
      assert.ok('drain' in result, JSON.stringify(result));
      return result.drain;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
