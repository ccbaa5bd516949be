import type { NodeIdentity } from '../cache/node.js';
import { TYPE_SHORT_NAME, type XdsShortName, type XdsTypeUrl } from '../resource/type-urls.js';
import type { NackRecord, StreamInfo, StreamProtocol, XdsEvents } from '../xds/events.js';
import { DEFAULT_XDS_LIMITS, type XdsLimits } from '../xds/limits.js';

export interface TypeStatus {
  sent?: { version: string; nonce: string; at: string };
  acked?: { version: string; at: string };
  lastNack?: { version: string; nonce: string; code: number; message: string; at: string };
  /**
   * A rejected config (`version`) is not being resent until it changes. `serving`: the version
   * a new process of the node was sent instead, the one the node last accepted.
   */
  parked?: { version: string; since: string; serving?: string };
}

export interface StreamStatus {
  readonly id: number;
  readonly protocol: StreamProtocol;
  readonly aggregated: boolean;
  readonly peer: string;
  readonly since: string;
}

export interface NodeStatus {
  identity: NodeIdentity;
  connected: boolean;
  connectedSince?: string;
  lastSeen: string;
  streams: StreamStatus[];
  types: Partial<Record<XdsShortName, TypeStatus>>;
}

/** What the registry keeps of nodes that left: so many, of so many bytes at most. */
export type RegistryLimits = Pick<XdsLimits, 'maxDisconnectedNodes' | 'maxDisconnectedNodeBytes'>;

/** A node's status beside its identity and NACK messages: its objects and short strings. */
const STATUS_OVERHEAD_BYTES = 1024;

/**
 * Every node that is or was connected, as the protocol events describe it: who it is, its
 * streams, and per type what was sent, what it ACKed, and its last NACK.
 *
 * Anyone who reaches the xDS port can connect as a node id of its choosing, so what is kept of
 * nodes that left is bounded, in number and in bytes (identity with metadata as cut by the
 * stream, last NACK messages): past either, the nodes that left first are forgotten first.
 */
export class NodeRegistry {
  readonly #nodes = new Map<string, NodeStatus>();
  /** Bytes of each node's identity, as measured when its latest stream opened. */
  readonly #identityBytes = new Map<string, number>();
  /** The nodes that left, in the order they left, with the bytes each takes. */
  readonly #disconnected = new Map<string, number>();
  #disconnectedBytes = 0;
  readonly #watchers = new Set<(nodeId: string) => void>();
  readonly #limits: RegistryLimits;

  constructor(limits: RegistryLimits = DEFAULT_XDS_LIMITS) {
    this.#limits = { maxDisconnectedNodes: limits.maxDisconnectedNodes, maxDisconnectedNodeBytes: limits.maxDisconnectedNodeBytes };
  }

  readonly events: Partial<XdsEvents> = {
    streamOpened: (s) => this.#opened(s),
    streamClosed: (s) => this.#closed(s),
    responseSent: (s, typeUrl, r) =>
      this.#update(s, typeUrl, (t) => {
        t.sent = { version: r.version, nonce: r.nonce, at: now() };
      }),
    acked: (s, typeUrl, version) =>
      this.#update(s, typeUrl, (t) => {
        t.acked = { version, at: now() };
        delete t.parked;
      }),
    nacked: (s, nack: NackRecord) =>
      this.#update(s, nack.typeUrl, (t) => {
        const { version, nonce, code, message } = nack;
        t.lastNack = { version, nonce, code, message, at: nack.at.toISOString() };
      }),
    parked: (s, typeUrl, version) =>
      this.#update(s, typeUrl, (t) => {
        // Already parked on this version (and perhaps serving a fallback): keep since and serving.
        if (t.parked?.version !== version) t.parked = { version, since: now() };
      }),
    fallbackAccepted: (s, typeUrl, version, rejectedVersion) =>
      this.#update(s, typeUrl, (t) => {
        t.parked = { version: rejectedVersion, since: now(), serving: version };
      }),
  };

  /** Calls `listener` with the id of every node whose status changes; returns the unsubscribe. */
  onChange(listener: (nodeId: string) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  get(id: string): NodeStatus | undefined {
    return this.#nodes.get(id);
  }

  list(): NodeStatus[] {
    return [...this.#nodes.values()];
  }

  #opened(s: StreamInfo): void {
    let node = this.#nodes.get(s.node.id);
    if (!node) {
      node = { identity: s.node, connected: true, lastSeen: now(), streams: [], types: {} };
      this.#nodes.set(s.node.id, node);
    }
    this.#uncount(s.node.id);
    node.identity = s.node;
    this.#identityBytes.set(s.node.id, s.nodeBytes ?? s.node.id.length + s.node.cluster.length);
    if (!node.connected || node.streams.length === 0) node.connectedSince = now();
    node.connected = true;
    node.lastSeen = now();
    node.streams.push({ id: s.streamId, protocol: s.protocol, aggregated: s.aggregated, peer: s.peer, since: now() });
    this.#changed(s.node.id);
  }

  #closed(s: StreamInfo): void {
    const node = this.#nodes.get(s.node.id);
    if (!node) return;
    node.streams = node.streams.filter((st) => st.id !== s.streamId);
    node.lastSeen = now();
    if (node.streams.length === 0) {
      node.connected = false;
      delete node.connectedSince;
      this.#left(s.node.id, node);
    }
    this.#changed(s.node.id);
  }

  #uncount(id: string): void {
    const bytes = this.#disconnected.get(id);
    if (bytes === undefined) return;
    this.#disconnected.delete(id);
    this.#disconnectedBytes -= bytes;
  }

  /** Counts the node among those that left, forgetting the first that left while past a bound. */
  #left(id: string, node: NodeStatus): void {
    this.#uncount(id);
    let bytes = STATUS_OVERHEAD_BYTES + (this.#identityBytes.get(id) ?? 0);
    for (const t of Object.values(node.types)) bytes += t.lastNack?.message.length ?? 0;
    this.#disconnected.set(id, bytes);
    this.#disconnectedBytes += bytes;
    const { maxDisconnectedNodes, maxDisconnectedNodeBytes } = this.#limits;
    for (const [oldest, oldestBytes] of this.#disconnected) {
      if (this.#disconnected.size <= maxDisconnectedNodes && this.#disconnectedBytes <= maxDisconnectedNodeBytes) break;
      this.#disconnected.delete(oldest);
      this.#disconnectedBytes -= oldestBytes;
      this.#nodes.delete(oldest);
      this.#identityBytes.delete(oldest);
    }
  }

  /** Bytes the nodes that left take, as counted against the bound. */
  get disconnectedBytes(): number {
    return this.#disconnectedBytes;
  }

  /** Applies a change to the node's status of one type (of a node still known). */
  #update(s: StreamInfo, typeUrl: XdsTypeUrl, change: (t: TypeStatus) => void): void {
    const node = this.#nodes.get(s.node.id);
    if (!node) return;
    change((node.types[TYPE_SHORT_NAME[typeUrl]] ??= {}));
    this.#changed(s.node.id);
  }

  #changed(id: string): void {
    for (const w of this.#watchers) w(id);
  }
}

let lastMs = 0;
let lastIso = '';

/** The time as ISO 8601; formatted once per millisecond, as events come in bursts at fleet scale. */
function now(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
