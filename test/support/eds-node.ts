/**
 * A simulated Envoy's EDS: an ADS stream (SotW or Delta) subscribed to some clusters' load
 * assignments, ACKing every response, as Envoy does for the EDS clusters CDS gave it. It can
 * move to another server, saying which versions it has (as a reconnecting Envoy does), and it
 * keeps every assignment it was sent, in order, over all its streams.
 */
import { openDeltaStream, openSotwStream, TYPE, type DeltaStream, type NodeIdentity, type SotwStream } from './ads-client.js';
import { appEndpoints } from './endpoint-fixture.js';
import { waitUntil } from './wait.js';

export type AdsFlavour = 'sotw' | 'delta';

export interface EdsNodeOptions {
  readonly flavour?: AdsFlavour;
  /** The ClusterLoadAssignments it asks for. */
  readonly clusters: readonly string[];
  /** node.cluster (default "test-cluster"). */
  readonly cluster?: string;
  /** Node metadata, e.g. `admin_address` for its host counts. */
  readonly metadata?: Record<string, string>;
  /** Says it is this release of Envoy (its user agent), as Envoy does. */
  readonly envoyVersion?: string;
}

/** `HOST:PORT` -> health_status of one assignment's endpoints ('' when unset). */
export type Endpoints = Record<string, string>;

export class EdsNode {
  /** Every assignment received, oldest first. */
  readonly #received: { cluster: string; endpoints: Endpoints }[] = [];
  /** SotW: the version last ACKed. */
  #version = '';
  /** Delta: each resource's version last ACKed. */
  readonly #versions = new Map<string, string>();
  #stream: SotwStream | DeltaStream | undefined;

  private constructor(
    readonly id: string,
    private readonly options: EdsNodeOptions,
  ) {}

  static connect(address: string, id: string, options: EdsNodeOptions): EdsNode {
    const node = new EdsNode(id, options);
    node.moveTo(address);
    return node;
  }

  get flavour(): AdsFlavour {
    return this.options.flavour ?? 'sotw';
  }

  /** Closes its stream and opens one to `address`, naming the versions it has. */
  moveTo(address: string): void {
    this.#stream?.close();
    const node: NodeIdentity = {
      id: this.id,
      cluster: this.options.cluster ?? 'test-cluster',
      ...(this.options.metadata && { metadata: this.options.metadata }),
      ...(this.options.envoyVersion && { user_agent_name: 'envoy', user_agent_version: this.options.envoyVersion }),
    };
    const names = [...this.options.clusters];
    if (this.flavour === 'sotw') {
      const stream = openSotwStream(address, { node });
      stream.send({ type_url: TYPE.EDS, resource_names: names, ...(this.#version !== '' && { version_info: this.#version }) });
      this.#stream = stream;
      void this.#answerSotw(stream);
    } else {
      const stream = openDeltaStream(address, { node });
      stream.send({ type_url: TYPE.EDS, resource_names_subscribe: names, initial_resource_versions: Object.fromEntries(this.#versions) });
      this.#stream = stream;
      void this.#answerDelta(stream);
    }
  }

  /** The latest assignment of `cluster` it was sent, or undefined before any. */
  endpoints(cluster: string): Endpoints | undefined {
    return this.history(cluster).at(-1);
  }

  /** Every assignment of `cluster` it was sent, oldest first. */
  history(cluster: string): Endpoints[] {
    return this.#received.filter((r) => r.cluster === cluster).map((r) => r.endpoints);
  }

  /** Waits until the latest assignment of `cluster` passes `check`. */
  async waitFor(cluster: string, check: (endpoints: Endpoints) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const passes = (): boolean => {
      const latest = this.endpoints(cluster);
      return latest !== undefined && check(latest);
    };
    await waitUntil(`${this.id} to be sent ${cluster} ${what}`, passes, timeoutMs, {
      explain: () => `; ${cluster} as last sent: ${JSON.stringify(this.endpoints(cluster))}`,
    });
  }

  close(): void {
    this.#stream?.close();
  }

  async #answerSotw(stream: SotwStream): Promise<void> {
    for (;;) {
      const res = await stream.next(TYPE.EDS, 600_000).catch(() => undefined);
      if (!res) return; // the stream ended
      for (const r of res.resources) this.#received.push({ cluster: r.name, endpoints: appEndpoints(r.bytes) });
      this.#version = res.version_info;
      stream.ack(res);
    }
  }

  async #answerDelta(stream: DeltaStream): Promise<void> {
    for (;;) {
      const res = await stream.next(TYPE.EDS, 600_000).catch(() => undefined);
      if (!res) return;
      for (const r of res.resources) {
        this.#received.push({ cluster: r.name, endpoints: appEndpoints(r.resource.bytes) });
        this.#versions.set(r.name, r.version);
      }
      for (const name of res.removed_resources) this.#versions.delete(name);
      stream.ack(res);
    }
  }
}
