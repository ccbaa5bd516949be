import type { HostCountSource, HostReport } from '../fleet/drain/ports.js';

/** How long a node's host counts are kept after they were read: drains judge only fresh ones. */
const KEEP_MS = 10 * 60_000;

/** The latest host counts of each node: read from its admin /clusters, or from its load reports. */
export class HostCountStore implements HostCountSource {
  /** In the order they were read (record() re-inserts), so the oldest come first. */
  readonly #reports = new Map<string, HostReport>();
  readonly #listeners = new Set<(nodeId: string) => void>();

  constructor(readonly now: () => number = Date.now) {}

  /** `at`: when they were asked for; a reading must not look newer than the state it shows. */
  record(nodeId: string, counts: Omit<HostReport, 'at'>, at: number): void {
    this.#reports.delete(nodeId);
    this.#reports.set(nodeId, { at: new Date(at), countsConnections: counts.countsConnections, hosts: counts.hosts, addresses: counts.addresses });
    for (const listener of this.#listeners) listener(nodeId);
    for (const [id, report] of this.#reports) {
      if (report.at.getTime() >= this.now() - KEEP_MS) break;
      this.#reports.delete(id);
    }
  }

  latest(nodeId: string): HostReport | undefined {
    return this.#reports.get(nodeId);
  }

  /** Calls `listener` with the node's id each time its counts are recorded; returns the unsubscribe. */
  onRecord(listener: (nodeId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
