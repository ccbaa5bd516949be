/**
 * What Envoy needs of a listener beyond its PGV rules: an address to listen on, and for a TCP
 * listener at least one filter chain (or a default one) to hand connections to ("error adding
 * listener '0.0.0.0:5432': no filter chains specified", "address is necessary"). Caught here,
 * before anything is served; Envoy would NACK the listener.
 */
import type { ConfigIssue } from './config-issue.js';
import type { LocatedResource } from './references.js';

type Json = Record<string, unknown>;

export function checkListenerShape(listener: LocatedResource): ConfigIssue[] {
  const { json, path, name } = listener;
  // An API listener is not a socket Envoy listens on; it has rules of its own.
  if (json['api_listener'] !== undefined) return [];
  const errors: ConfigIssue[] = [];
  if (json['address'] === undefined) {
    errors.push({ path: `${path}.address`, message: `is required: listener "${name}" needs an address to listen on` });
  }
  const protocol = ((json['address'] as Json | undefined)?.['socket_address'] as Json | undefined)?.['protocol'];
  const chains = (json['filter_chains'] as unknown[] | undefined) ?? [];
  // A UDP listener without QUIC has no filter chains: its listener filters do the work.
  if (protocol !== 'UDP' && chains.length === 0 && json['default_filter_chain'] === undefined) {
    errors.push({
      path: `${path}.filter_chains`,
      message: `listener "${name}" has no filter chain (and no default_filter_chain): Envoy would reject it`,
    });
  }
  return errors;
}
