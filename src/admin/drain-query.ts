/**
 * The query of POST /drain_listeners, checked against what the running Envoy will do with it
 * (source/server/admin/listeners_handler.cc).
 */
import type { AdminQuery } from './admin-transport.js';
import { EnvoyVersionError } from './errors.js';
import { atLeast } from './version.js';

export interface DrainListenersOptions {
  /**
   * Signal existing connections and keep accepting for the drain time before the listeners stop.
   * Without it, listeners stop at once and existing connections are not told; an admin drain of
   * either kind cannot be undone (later LDS updates for those listeners are ignored).
   */
  readonly graceful: boolean;
  /** Only listeners with `traffic_direction: INBOUND`, leaving egress to the application. */
  readonly inboundOnly: boolean;
  /** Keep the listeners accepting after the graceful drain time instead of stopping them. */
  readonly skipExit?: boolean;
  /**
   * Accept that an Envoy older than 1.34 drains connections of every direction when asked for a
   * graceful inbound-only drain (only the stopping of listeners is inbound-only there).
   */
  readonly allowAllDirections?: boolean;
}

/** The first release where `graceful` + `inboundonly` drains inbound only (envoy#35020, PR #37873). */
export const GRACEFUL_INBOUND_ONLY_SINCE = '1.34.0';

/** Whether building the query depends on the Envoy version. */
export function drainNeedsVersion(options: DrainListenersOptions): boolean {
  return options.graceful && options.inboundOnly && !options.allowAllDirections;
}

/**
 * Throws a RangeError for a combination Envoy rejects, and an EnvoyVersionError when this Envoy
 * would drain more than was asked. `envoyVersion` is required when drainNeedsVersion() is true.
 */
export function drainListenersQuery(options: DrainListenersOptions, envoyVersion?: string): AdminQuery {
  if (options.skipExit && !options.graceful) {
    // Released Envoys answer 400 "skip_exit requires graceful": refuse before sending anything.
    throw new RangeError('drain_listeners: skipExit requires graceful');
  }
  if (drainNeedsVersion(options)) {
    if (envoyVersion === undefined) {
      throw new RangeError('drain_listeners: a graceful inbound-only drain needs the Envoy version');
    }
    if (!atLeast(envoyVersion, GRACEFUL_INBOUND_ONLY_SINCE)) {
      throw new EnvoyVersionError(
        `Envoy ${envoyVersion} drains connections of every direction on a graceful drain, egress included; ` +
          `graceful inbound-only drains need Envoy ${GRACEFUL_INBOUND_ONLY_SINCE} or later ` +
          '(pass allowAllDirections to drain all directions anyway)',
        envoyVersion,
      );
    }
  }
  const query: Array<readonly [string, true]> = [];
  if (options.graceful) query.push(['graceful', true]);
  if (options.inboundOnly) query.push(['inboundonly', true]);
  if (options.skipExit) query.push(['skip_exit', true]);
  return query;
}
