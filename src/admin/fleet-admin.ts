import type { NodeIdentity } from '../cache/node.js';
import type { AdminDrainActions } from '../fleet/drain/ports.js';
import type { ConnectionGauges } from '../gauges/connection-gauges.js';
import { EnvoyAdmin } from './envoy-admin.js';
import type { HostCountStore } from './host-count-store.js';

/** The node metadata key under which an Envoy may announce its admin address (`host:port`). */
export const ADMIN_ADDRESS_METADATA = 'admin_address';

export interface FleetAdminSettings {
  /** Reach admin addresses beyond loopback. Off by default: the admin API can stop every listener. */
  readonly allowRemote: boolean;
  readonly timeoutMs: number;
}

export interface FleetAdminOptions {
  /** Read at each use: a config reload may change them. */
  readonly settings: () => FleetAdminSettings;
  /** The supervised Envoy's admin address, for nodes whose metadata names none. */
  readonly localAddress?: string | undefined;
}

/**
 * Envoy admin API access for fleet drains: the admin address comes from the node's metadata,
 * and is used only when it is on loopback or remote access was configured.
 */
export class FleetAdmin implements AdminDrainActions {
  readonly #clients = new Map<string, EnvoyAdmin>();

  constructor(private readonly options: FleetAdminOptions) {}

  unavailable(node: NodeIdentity): string | undefined {
    const address = this.#address(node);
    if (address === '') {
      return `its admin address is unknown (set node metadata "${ADMIN_ADDRESS_METADATA}" in its bootstrap)`;
    }
    try {
      this.#client(node);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  async healthcheckFail(node: NodeIdentity): Promise<void> {
    await this.#client(node).healthcheckFail();
  }

  async healthcheckOk(node: NodeIdentity): Promise<void> {
    await this.#client(node).healthcheckOk();
  }

  /**
   * Graceful and inbound only. Envoy before 1.34 drains every direction on `graceful`, which
   * would take the application's outbound calls too: the client refuses that.
   */
  async drainListeners(node: NodeIdentity): Promise<void> {
    await this.#client(node).drainListeners({ graceful: true, inboundOnly: true });
  }

  /**
   * Reads the node's connection gauges from its admin /stats into `gauges`, dated when they were
   * asked for: a poll sent before an LDS change and answered after its ACK shows the old state.
   */
  async poll(node: NodeIdentity, gauges: ConnectionGauges): Promise<void> {
    const askedAt = gauges.now();
    gauges.record(node.id, await this.#client(node).connectionGauges(), askedAt);
  }

  /** Reads the node's host counts from its admin /clusters into `store`, dated when asked for. */
  async pollHosts(node: NodeIdentity, store: HostCountStore): Promise<void> {
    const askedAt = store.now();
    store.record(node.id, await this.#client(node).hostCounts(), askedAt);
  }

  close(): void {
    for (const client of this.#clients.values()) void client.close();
    this.#clients.clear();
  }

  #address(node: NodeIdentity): string {
    const announced = node.metadata[ADMIN_ADDRESS_METADATA];
    return typeof announced === 'string' && announced !== '' ? announced : (this.options.localAddress ?? '');
  }

  #client(node: NodeIdentity): EnvoyAdmin {
    const address = this.#address(node);
    const { allowRemote, timeoutMs } = this.options.settings();
    const key = `${address}\0${allowRemote}\0${timeoutMs}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = new EnvoyAdmin({ address, allowRemote, timeoutMs });
      this.#clients.set(key, client);
    }
    return client;
  }
}
