/**
 * Finding nodes in a large fleet: filters, a search, and pages that stay put while nodes come
 * and go (a cursor is the position after the last node shown, not an offset).
 */
import type { ListenerState } from './drain/model.js';
import type { FleetRead } from './fleet-read.js';
import { compareKeys, nodeOrderKey } from './node-order.js';
import type { NodeStatus } from './registry.js';

export interface NodeQuery {
  /** Case-insensitive part of the id, cluster, region, zone or sub-zone. */
  readonly q?: string;
  readonly cluster?: string;
  readonly region?: string;
  readonly zone?: string;
  /** Nodes with at least one listener in this state. */
  readonly state?: ListenerState;
  readonly connected?: boolean;
  /** Page size: at most this many nodes (the API asks for 500 unless told otherwise). */
  readonly limit: number;
  /**
   * And at most about this many bytes of node metadata and NACK messages (the parts of a
   * node's status a client chooses the size of): a page of large nodes ends early, its
   * `nextCursor` leading on. One node always fits.
   */
  readonly maxBytes?: number;
  /** From the previous page's `nextCursor`. */
  readonly cursor?: string;
  /**
   * Or the position of the page's first node among the matches, to jump to page N of M. A
   * cursor stays put while nodes come and go; an offset names a place in the list as it is now.
   */
  readonly offset?: number;
}

export interface NodePage {
  readonly nodes: NodeStatus[];
  /** Nodes matching the filters, over all pages. */
  readonly total: number;
  /** Where the next page starts, or null on the last page. */
  readonly nextCursor: string | null;
  /** The page size the query asked for. */
  readonly limit: number;
  /** The position of the page's first node among the matches. */
  readonly offset: number;
}

export class BadCursorError extends Error {
  constructor() {
    super('cursor: not a cursor this API gave out (take nextCursor from the previous page)');
  }
}

export class CursorAndOffsetError extends Error {
  constructor() {
    super('offset: give either a cursor or an offset, not both');
  }
}

export function queryNodes(read: FleetRead, query: NodeQuery): NodePage {
  if (query.cursor !== undefined && query.offset !== undefined) throw new CursorAndOffsetError();
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const q = query.q?.trim().toLowerCase() ?? '';
  const matching = read
    .nodes()
    .filter((n) => {
      const { identity } = n;
      const { region, zone, subZone } = identity.locality;
      if (query.cluster !== undefined && identity.cluster !== query.cluster) return false;
      if (query.region !== undefined && region !== query.region) return false;
      if (query.zone !== undefined && zone !== query.zone) return false;
      if (query.connected !== undefined && n.connected !== query.connected) return false;
      if (q !== '' && ![identity.id, identity.cluster, region, zone, subZone].some((s) => s.toLowerCase().includes(q))) return false;
      return query.state === undefined || read.listeners(identity).some((l) => l.state === query.state);
    })
    .map((n) => ({ n, key: nodeOrderKey(n.identity) }))
    .sort((a, b) => compareKeys(a.key, b.key));
  const start = after === undefined ? Math.min(query.offset ?? 0, matching.length) : firstAfter(matching, after);
  const end = pageEnd(matching, start, query.limit, query.maxBytes ?? Infinity);
  return {
    nodes: matching.slice(start, end).map((m) => m.n),
    total: matching.length,
    nextCursor: end < matching.length ? encodeCursor(matching[end - 1]!.key) : null,
    limit: query.limit,
    offset: start,
  };
}

/** Where a page from `start` ends: after `limit` nodes, or before the node that would pass `maxBytes`. */
function pageEnd(entries: readonly { n: NodeStatus }[], start: number, limit: number, maxBytes: number): number {
  const last = Math.min(entries.length, start + limit);
  if (maxBytes === Infinity) return last;
  let bytes = 0;
  for (let i = start; i < last; i++) {
    bytes += clientChosenBytes(entries[i]!.n);
    if (bytes > maxBytes && i > start) return i;
  }
  return last;
}

/**
 * The bytes of a node's status whose size its client chose: metadata (as JSON) and NACK
 * messages. Measured only up to the page's bound, so a page costs at most that much of it.
 */
function clientChosenBytes(node: NodeStatus): number {
  let bytes = JSON.stringify(node.identity.metadata).length;
  for (const t of Object.values(node.types)) bytes += t?.lastNack?.message.length ?? 0;
  return bytes;
}

/** The index of the first entry ordered after `key` (binary search: the entries are sorted). */
function firstAfter(entries: readonly { key: string[] }[], key: readonly string[]): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(entries[mid]!.key, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 5 && key.every((k) => typeof k === 'string')) return key;
  } catch {
    // not base64url JSON: the same answer as any other cursor this API did not give out
  }
  throw new BadCursorError();
}
