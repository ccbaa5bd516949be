import type { NodeIdentity } from '../../cache/node.js';
import type { SnapshotCache } from '../../cache/snapshot-cache.js';
import type { Snapshot } from '../../cache/snapshot.js';
import { TypeUrl, type XdsTypeUrl } from '../../resource/type-urls.js';
import type { XdsEvents } from '../../xds/events.js';
import type { FleetConfig } from '../config.js';
import type { Drain } from '../drain/model.js';
import { applyOverlay, overlaysOf, type NodeOverlay } from '../drain/overlay.js';
import { endpointDrains, type EndpointDrains } from '../endpoints/marks.js';
import { applyEndpointMarks } from '../endpoints/overlay.js';
import type { NodeStatus } from '../registry.js';
import type { ServiceAssignments } from '../service-endpoints/service-assignments.js';
import { groupOf, groupSnapshots, type GroupSnapshots } from './group-snapshots.js';
import { withServices } from './with-services.js';
import { typeSync, type TypeSync } from './sync.js';

export interface DesiredStateOptions {
  /** Written by this module alone; the xDS streams read it. */
  readonly cache: SnapshotCache;
  /** The running config at start-up. */
  readonly config: FleetConfig;
  /** What the Kubernetes Services the config names hold now (groups' serviceEndpoints). */
  readonly services?: ServiceAssignments;
}

interface ServedNode {
  identity: NodeIdentity;
  streams: number;
}

const NO_OVERLAY: NodeOverlay = new Map();

/**
 * What every node should have, and the one writer of the snapshot cache: the running config's
 * group snapshot with the drains' listener changes and endpoint drains' marks on top. The config service hands it each
 * config it installs, the drain manager the drains after each stored change; every other part
 * asks it whether a node is in sync. Snapshots are kept for nodes with an open stream only.
 */
export class DesiredState {
  /** The config as installed. */
  #installed: FleetConfig;
  /** The same, with what its Services hold now: the running config. */
  #config: FleetConfig;
  #groups: GroupSnapshots;
  /** Listener changes by node, for every node of a drain that acts on listeners (served or not). */
  readonly #overlays = new Map<string, NodeOverlay>();
  /** The endpoint drains acting now: they act on every node they select, with an entry or not. */
  #endpoints: EndpointDrains = endpointDrains([]);
  readonly #served = new Map<string, ServedNode>();

  /**
   * Stream events: a node is served from its first stream to its last. Subscribed after the
   * drains (a node joins running drains before its snapshot is computed) and before any part
   * that reads the snapshot.
   */
  readonly events: Pick<XdsEvents, 'streamOpened' | 'streamClosed'> = {
    streamOpened: (s) => this.#opened(s.node),
    streamClosed: (s) => this.#closed(s.node.id),
  };

  constructor(private readonly options: DesiredStateOptions) {
    this.#installed = options.config;
    this.#config = withServices(options.config, options.services);
    this.#groups = groupSnapshots(this.#config);
  }

  /** The running config, with the endpoints its Kubernetes Services hold now. */
  get config(): FleetConfig {
    return this.#config;
  }

  /** Installs a config (already stored); returns how many served nodes it changed. */
  setConfig(config: FleetConfig): number {
    this.#installed = config;
    this.#config = withServices(config, this.options.services);
    this.#groups = groupSnapshots(this.#config);
    return this.#publish(this.#served.keys());
  }

  /**
   * A Service's endpoints changed (already in the service assignments): pushes the served nodes
   * of the groups that take it; returns how many changed.
   */
  serviceChanged(namespace: string, service: string): number {
    const takers = new Set(
      this.#installed.groups.filter((g) => g.serviceEndpoints.some((r) => r.namespace === namespace && r.service === service)).map((g) => g.name),
    );
    if (takers.size === 0) return 0;
    this.#config = withServices(this.#installed, this.options.services);
    this.#groups = groupSnapshots(this.#config);
    const nodes = [...this.#served.values()].filter((n) => takers.has(groupOf(this.#config, n.identity)?.name ?? ''));
    return this.#publish(nodes.map((n) => n.identity.id));
  }

  /**
   * Takes the drains' listener changes for these nodes (from drains already stored) and pushes
   * the served ones whose snapshot changed. `all`: every node of the drains and every node
   * that has an overlay now (after the store was unreachable). When what endpoint drains do
   * changed, every served node is worked out again: they act beyond their entries.
   */
  applyDrains(drains: readonly Drain[], nodeIds: Iterable<string> | 'all'): void {
    const wanted = new Set(nodeIds === 'all' ? this.#overlays.keys() : nodeIds);
    const endpoints = endpointDrains(drains);
    if (endpoints.key !== this.#endpoints.key) for (const id of this.#served.keys()) wanted.add(id);
    this.#endpoints = endpoints;
    if (nodeIds === 'all') for (const d of drains) for (const p of d.phases) for (const n of p.nodes) wanted.add(n.nodeId);
    const next = overlaysOf(drains, wanted);
    for (const id of wanted) {
      const overlay = next.get(id);
      if (overlay) this.#overlays.set(id, overlay);
      else this.#overlays.delete(id);
    }
    this.#publish(wanted);
  }

  /** The drains acting on a node's listeners now: listener name -> action and drain. */
  overlayOf(nodeId: string): NodeOverlay {
    return this.#overlays.get(nodeId) ?? NO_OVERLAY;
  }

  /** The snapshot a served node should have now. */
  snapshot(nodeId: string): Snapshot | undefined {
    return this.options.cache.snapshot(nodeId);
  }

  /** Where the node stands with the version of `typeUrl` it should have; undefined when unknown. */
  sync(status: NodeStatus | undefined, typeUrl: XdsTypeUrl): TypeSync | undefined {
    return status && typeSync(this.snapshot(status.identity.id), status, typeUrl);
  }

  /**
   * Like sync, for a node whose stream another replica holds (no snapshot here): its snapshot
   * is worked out from the same config and drains, which give the same bytes on every replica.
   */
  syncElsewhere(status: NodeStatus | undefined, typeUrl: XdsTypeUrl): TypeSync | undefined {
    return status && typeSync(this.#desired(status.identity), status, typeUrl);
  }

  /** True when the node ACKed the clusters and listeners it should have now. */
  inSync(status: NodeStatus): boolean {
    return [TypeUrl.Cluster, TypeUrl.Listener].every((t) => this.sync(status, t)?.ackedAt !== undefined);
  }

  #opened(identity: NodeIdentity): void {
    const served = this.#served.get(identity.id);
    if (served) {
      // A newer stream of the same node may describe it differently (a new cluster, say).
      served.identity = identity;
      served.streams += 1;
    } else {
      this.#served.set(identity.id, { identity, streams: 1 });
    }
    this.#publish([identity.id]);
  }

  #closed(nodeId: string): void {
    const served = this.#served.get(nodeId);
    if (!served || --served.streams > 0) return;
    this.#served.delete(nodeId);
    this.options.cache.clearSnapshot(nodeId);
  }

  /** Computes and sets the snapshots of these nodes (those served); returns how many changed. */
  #publish(nodeIds: Iterable<string>): number {
    let changed = 0;
    for (const id of nodeIds) {
      const served = this.#served.get(id);
      if (!served) continue;
      const desired = this.#desired(served.identity);
      // Unknown now (no group matches): the node keeps what it has rather than get an empty state.
      if (desired && this.options.cache.setSnapshot(id, desired)) changed += 1;
    }
    return changed;
  }

  /** The node's group snapshot with its drains applied; undefined when no group matches it. */
  #desired(identity: NodeIdentity): Snapshot | undefined {
    const base = this.#groups(identity);
    if (!base) return undefined;
    const listeners = applyOverlay(base, this.#overlays.get(identity.id));
    return applyEndpointMarks(listeners, this.#endpoints.marksFor(identity));
  }
}
