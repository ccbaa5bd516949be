/**
 * The query of POST /drain_listeners, checked against what the running Envoy will do with it
 * (source/server/admin/listeners_handler.cc).
 */
import type { AdminQuery } from './admin-transport.js';
import { EnvoyVersionError } from './errors.js';
import { atLeast } from '../cache/envoy-version.js';

export interface DrainListenersOptions {
  /**
   * Signal existing connections and keep accepting for the drain time before the listeners stop.
   * Without it, listeners stop at once; existing connections are told from Envoy 1.40 on, and
   * before that are not told at all (seen on 1.36.2, 1.37.0 and 1.40.0). An admin drain of
   * either kind cannot be undone: later LDS updates for stopped listeners are ignored.
   */
  readonly graceful: boolean;
  /** Only listeners with `traffic_direction: INBOUND`, leaving egress to the application. */
  readonly inboundOnly: boolean;
  /**
   * Keep the listeners accepting after the drain time instead of stopping them. Without
   * `graceful` it needs Envoy 1.40 (SKIP_EXIT_ALONE_SINCE), where existing connections are told
   * at once and the listeners never stop; earlier releases answer 400.
   */
  readonly skipExit?: boolean;
  /**
   * Accept that an Envoy older than 1.34 drains connections of every direction when asked for a
   * graceful inbound-only drain (only the stopping of listeners is inbound-only there).
   */
  readonly allowAllDirections?: boolean;
}

/** The first release where `graceful` + `inboundonly` drains inbound only (envoy#35020, PR #37873). */
export const GRACEFUL_INBOUND_ONLY_SINCE = '1.34.0';

/** The first release that takes `skip_exit` without `graceful`; 1.29 to 1.39 answer 400 "skip_exit requires graceful". */
export const SKIP_EXIT_ALONE_SINCE = '1.40.0';

function gracefulInboundOnly(options: DrainListenersOptions): boolean {
  return options.graceful && options.inboundOnly && !options.allowAllDirections;
}

function skipExitAlone(options: DrainListenersOptions): boolean {
  return options.skipExit === true && !options.graceful;
}

/** Whether building the query depends on the Envoy version. */
export function drainNeedsVersion(options: DrainListenersOptions): boolean {
  return gracefulInboundOnly(options) || skipExitAlone(options);
}

/**
 * Throws an EnvoyVersionError, before anything is sent, when this Envoy would refuse the drain or
 * drain more than was asked. `envoyVersion` is required (RangeError) when drainNeedsVersion() is true.
 */
export function drainListenersQuery(options: DrainListenersOptions, envoyVersion?: string): AdminQuery {
  if (drainNeedsVersion(options)) {
    if (envoyVersion === undefined) {
      throw new RangeError('drain_listeners: this drain depends on the Envoy version, which was not given');
    }
    refuseUnsupported(options, envoyVersion);
  }
  const query: Array<readonly [string, true]> = [];
  if (options.graceful) query.push(['graceful', true]);
  if (options.inboundOnly) query.push(['inboundonly', true]);
  if (options.skipExit) query.push(['skip_exit', true]);
  return query;
}

function refuseUnsupported(options: DrainListenersOptions, envoyVersion: string): void {
  if (skipExitAlone(options) && !atLeast(envoyVersion, SKIP_EXIT_ALONE_SINCE)) {
    throw new EnvoyVersionError(
      `Envoy ${envoyVersion} refuses skip_exit without graceful ("skip_exit requires graceful"); ` +
        `that needs Envoy ${SKIP_EXIT_ALONE_SINCE} or later`,
      envoyVersion,
    );
  }
  if (gracefulInboundOnly(options) && !atLeast(envoyVersion, GRACEFUL_INBOUND_ONLY_SINCE)) {
    throw new EnvoyVersionError(
      `Envoy ${envoyVersion} drains connections of every direction on a graceful drain, egress included; ` +
        `graceful inbound-only drains need Envoy ${GRACEFUL_INBOUND_ONLY_SINCE} or later ` +
        '(pass allowAllDirections to drain all directions anyway)',
      envoyVersion,
    );
  }
}
