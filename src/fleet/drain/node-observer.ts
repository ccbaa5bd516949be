/**
 * What a node of a drain reports now, gathered for the progress rules: for listener drains,
 * its ACK or NACK of the drained listener version (from this replica's stream, or from what the
 * replica holding its stream published); for admin drains, whether the admin call succeeded;
 * and its latest connection gauges.
 */
import { TypeUrl } from '../../resource/type-urls.js';
import type { DesiredState } from '../desired-state/desired-state.js';
import { gaugeReading } from './gauge-reading.js';
import { drainsByLds, type Drain, type NodeProgress } from './model.js';
import { nodeListeners } from './plan.js';
import { hostKey, type ConnectionSource, type HostCountSource, type NodeDirectory, type RemoteLdsProgress } from './ports.js';
import type { AdminSteps } from './admin-steps.js';
import type { HostReading, NodeObservation } from './observation.js';

export interface NodeObserverDeps {
  /** The nodes connected to this replica. */
  readonly local: NodeDirectory;
  /** Every node of the fleet. */
  readonly fleet: NodeDirectory;
  readonly remote: RemoteLdsProgress | undefined;
  /** What each node should have now, and whether it ACKed it. */
  readonly desired: Pick<DesiredState, 'sync' | 'syncElsewhere' | 'config'>;
  readonly connections: ConnectionSource;
  /** Host counts, for endpoint drains; absent: none are read. */
  readonly hosts?: HostCountSource | undefined;
  /** The admin calls made for drains by an admin method: whether each succeeded, or why it failed. */
  readonly admin: Pick<AdminSteps, 'done' | 'failure'>;
}

export class NodeObserver {
  constructor(private readonly deps: NodeObserverDeps) {}

  observe(drain: Drain, phaseIndex: number, node: NodeProgress): NodeObservation {
    if (drain.spec.method === 'eds') return this.#observeEndpoints(node);
    const status = this.deps.local.get(node.nodeId);
    const report = this.deps.connections.latest(node.nodeId);
    let acked: boolean;
    let ackedAt: number | undefined;
    let rejected: string | undefined;
    let failed: string | undefined;
    const byLds = drainsByLds(drain.spec.method);
    // A node whose stream is on another replica is judged by what that replica published.
    const remote = byLds && !status?.connected ? this.deps.remote?.observe(node) : undefined;
    if (remote) {
      ({ acked, ackedAt, rejected } = remote);
    } else if (byLds) {
      const lds = this.deps.desired.sync(status, TypeUrl.Listener);
      acked = lds?.ackedAt !== undefined;
      ackedAt = lds?.ackedAt !== undefined ? Date.parse(lds.ackedAt) : undefined;
      rejected = lds?.rejected;
    } else {
      acked = this.deps.admin.done(drain.id, phaseIndex, node.nodeId);
      ackedAt = acked && node.startedAt ? Date.parse(node.startedAt) : undefined;
      rejected = undefined;
      failed = this.deps.admin.failure(drain.id, phaseIndex, node.nodeId);
    }
    // One shape for every observation (no spreads, every field present): a progress step reads
    // ten thousand of them, and mixed shapes made those reads several times slower.
    if (!report) return { acked, ackedAt, rejected, failed, report: undefined, hosts: undefined };
    const identity = (status ?? this.deps.fleet.get(node.nodeId))?.identity;
    const reading = gaugeReading(report, identity ? nodeListeners(this.deps.desired.config, identity) : []);
    return { acked, ackedAt, rejected, failed, report: reading, hosts: undefined };
  }

  /**
   * An endpoint drain's node: its ACK of the EDS version carrying the marks, and the host counts
   * its Envoy last reported. A node whose stream another replica holds is judged by the EDS
   * version that replica published for it against the one worked out here.
   */
  #observeEndpoints(node: NodeProgress): NodeObservation {
    const local = this.deps.local.get(node.nodeId);
    const eds = local?.connected
      ? this.deps.desired.sync(local, TypeUrl.ClusterLoadAssignment)
      : this.deps.desired.syncElsewhere(this.deps.fleet.get(node.nodeId), TypeUrl.ClusterLoadAssignment);
    const report = this.deps.hosts?.latest(node.nodeId);
    const hosts: HostReading | undefined = report && {
      at: report.at.getTime(),
      countsConnections: report.countsConnections,
      counts: (cluster, address) => report.hosts.get(hostKey(cluster, address)) ?? report.addresses.get(address),
    };
    return {
      acked: eds?.ackedAt !== undefined,
      ackedAt: eds?.ackedAt !== undefined ? Date.parse(eds.ackedAt) : undefined,
      rejected: eds?.rejected,
      failed: undefined,
      report: undefined,
      hosts,
    };
  }
}
