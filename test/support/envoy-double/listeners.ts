/**
 * The Envoy test double's dynamic listeners: the set of the last accepted LDS response, and every
 * change to it as events. No sockets are opened; a drain is a timer and a pair of events.
 *
 * Envoy's rules, from ../shared/ENVOY-FACTS.md:
 * - "xDS protocol": a SotW LDS response carries every listener; one missing is removed.
 * - "LDS removal of a listener": removals are applied before additions; a removed listener's
 *   connections drain for --drain-time-s, and nothing ends the drain early, so
 *   `listener_manager.total_listeners_draining` stays up for the whole drain time. A listener
 *   re-added while the old one drains is a new listener; the old drain goes on.
 * - "LDS modification": identical content is a no-op (compared here by bytes). A change of filter
 *   chains only is an in-place update that drains the connections of changed chains; any other
 *   change is a full update that drains the whole old listener (ListenerImpl::supportUpdateFilterChain;
 *   the double compares the listener with its filter chains left out, which is the gist of it).
 * - "drain_type per listener": /healthcheck/fail drains DEFAULT listeners, not MODIFY_ONLY ones;
 *   `/drain_listeners?inboundonly` selects INBOUND listeners (by traffic_direction).
 * - "drain_type per listener": listeners stopped by /drain_listeners (without graceful) ignore
 *   later LDS additions and updates; the response is still ACKed. An admin drain cannot be
 *   undone; an LDS drain can (docs: operations/admin).
 * Not modelled: warming (a listener counts as active once its LDS response is ACKed, as Envoy
 * ACKs when it places listeners into warming).
 */
import type { DrainStrategy, DrainType, EventSink, ListenerFacts, TrafficDirection } from './events.js';

/** A listener decoded from an LDS response. */
export interface ListenerResource {
  name: string;
  /** The serialized Listener as the control plane sent it. */
  bytes: Buffer;
  /** The same, as canonical proto3 JSON (snake_case, defaults omitted). */
  json: Record<string, unknown>;
}

interface Accepted extends ListenerResource {
  facts: ListenerFacts;
}

export interface ListenerSetOptions {
  events: EventSink;
  drainTimeS: number;
  drainStrategy: DrainStrategy;
  /** Stats served on the admin API; the double keeps listener_manager's gauges in it. */
  stats: Map<string, number>;
}

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export class ListenerSet {
  readonly #active = new Map<string, Accepted>();
  /** Names stopped by /drain_listeners: Envoy ignores later LDS updates for them. */
  readonly #stopped = new Set<string>();
  /** Drains in progress, each ended by its timer. */
  readonly #draining = new Set<NodeJS.Timeout>();

  constructor(private readonly options: ListenerSetOptions) {
    this.#publishStats();
  }

  /** Replaces the set with an accepted SotW LDS response, recording every change. */
  apply(resources: readonly ListenerResource[], version: string): void {
    const next = new Map(resources.map((r) => [r.name, r]));
    for (const [name, old] of this.#active) {
      if (next.has(name)) continue;
      this.#active.delete(name);
      this.options.events.record({ type: 'listener_removed', ...old.facts });
      this.#drain(old.facts, 'removed', 'listener');
    }
    for (const resource of resources) {
      const old = this.#active.get(resource.name);
      if (old?.bytes.equals(resource.bytes)) continue;
      if (this.#stopped.has(resource.name)) {
        this.options.events.record({ type: 'listener_update_ignored', name: resource.name, version, reason: 'stopped by /drain_listeners' });
        continue;
      }
      const accepted = { ...resource, facts: factsOf(resource, version) };
      this.#active.set(resource.name, accepted);
      if (!old) {
        this.options.events.record({ type: 'listener_added', ...accepted.facts });
        continue;
      }
      const update = sameButFilterChains(old.json, resource.json) ? 'filter_chains' : 'full';
      this.options.events.record({ type: 'listener_modified', update, previous_version: old.facts.version, ...accepted.facts });
      this.#drain(old.facts, 'modified', update === 'full' ? 'listener' : 'filter_chains');
    }
    this.#publishStats();
  }

  /** /drain_listeners without graceful: these listeners stop, and later LDS updates are ignored. */
  stop(names: readonly string[]): void {
    for (const name of names) this.#stopped.add(name);
  }

  /** The listeners now active, in the order they were first added. */
  list(): ListenerFacts[] {
    return [...this.#active.values()].map((l) => l.facts);
  }

  /** route_config_name of every HTTP connection manager that takes its routes from RDS. */
  routeConfigNames(): string[] {
    const names = new Set<string>();
    for (const { json } of this.#active.values()) {
      const chains = [...((json['filter_chains'] as Json[] | undefined) ?? [])];
      if (json['default_filter_chain']) chains.push(json['default_filter_chain'] as Json);
      for (const chain of chains) {
        for (const filter of (chain['filters'] as Json[] | undefined) ?? []) {
          const config = filter['typed_config'] as Json | undefined;
          const rds = config?.['@type'] === HCM ? (config['rds'] as Json | undefined) : undefined;
          if (typeof rds?.['route_config_name'] === 'string') names.add(rds['route_config_name']);
        }
      }
    }
    return [...names].sort();
  }

  #drain(facts: ListenerFacts, reason: 'removed' | 'modified', scope: 'listener' | 'filter_chains'): void {
    const { drainTimeS, drainStrategy } = this.options;
    const endsAt = new Date(Date.now() + drainTimeS * 1000).toISOString();
    this.options.events.record({
      type: 'listener_drain_started',
      reason,
      scope,
      drain_time_s: drainTimeS,
      drain_strategy: drainStrategy,
      ends_at: endsAt,
      ...facts,
    });
    const timer = setTimeout(() => {
      this.#draining.delete(timer);
      this.options.events.record({ type: 'listener_drain_finished', reason, ...facts });
      this.#publishStats();
    }, drainTimeS * 1000);
    this.#draining.add(timer);
  }

  #publishStats(): void {
    this.options.stats.set('listener_manager.total_listeners_active', this.#active.size);
    this.options.stats.set('listener_manager.total_listeners_draining', this.#draining.size);
  }
}

type Json = Record<string, unknown>;

function factsOf(resource: ListenerResource, version: string): ListenerFacts {
  const json = resource.json;
  return {
    name: resource.name,
    address: addressOf(json['address'] as Json | undefined),
    // Canonical JSON leaves out enum fields at their default (UNSPECIFIED, DEFAULT).
    traffic_direction: (json['traffic_direction'] as TrafficDirection | undefined) ?? 'UNSPECIFIED',
    drain_type: (json['drain_type'] as DrainType | undefined) ?? 'DEFAULT',
    version,
  };
}

function addressOf(address: Json | undefined): string {
  const socket = address?.['socket_address'] as { address?: string; port_value?: number } | undefined;
  if (socket) return `${socket.address ?? ''}:${socket.port_value ?? 0}`;
  const pipe = address?.['pipe'] as { path?: string } | undefined;
  return pipe?.path ?? '';
}

function sameButFilterChains(a: Json, b: Json): boolean {
  const rest = ({ filter_chains: _chains, default_filter_chain: _fallback, ...others }: Json): string => JSON.stringify(others);
  return rest(a) === rest(b);
}
