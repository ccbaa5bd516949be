/**
 * Envoy refuses a listener whose filter chains share one `filter_chain_match` ("filter chain ''
 * has the same matching rules defined as ''"); it NACKs the listener, and a new Envoy process
 * then never gets it. Caught here, before anything is served. Envoy compares the match messages
 * as a whole (absent = empty, repeated fields in order), as the canonical JSON (decoded from the
 * encoded bytes: fields in proto order, defaults omitted) does. A listener with `filter_chain_matcher` selects chains by name instead: not checked.
 */
import type { ConfigIssue } from './config-issue.js';
import type { LocatedResource } from './references.js';

type Json = Record<string, unknown>;

export function checkFilterChainMatches(listener: LocatedResource): ConfigIssue[] {
  if (listener.json['filter_chain_matcher'] !== undefined) return [];
  const chains = (listener.json['filter_chains'] as Json[] | undefined) ?? [];
  const seen = new Map<string, number>();
  const errors: ConfigIssue[] = [];
  chains.forEach((chain, i) => {
    const key = JSON.stringify(chain['filter_chain_match'] ?? {});
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, i);
      return;
    }
    errors.push({
      path: `${listener.path}.filter_chains[${i}].filter_chain_match`,
      message: `the same filter_chain_match as filter_chains[${first}] of listener "${listener.name}"; Envoy would reject the listener`,
    });
  });
  return errors;
}
