/**
 * Envoy refuses a route config where two virtual hosts (or one, twice) list the same domain,
 * compared without case: "Only unique values for domains are permitted. Duplicate entry of
 * domain ledger in route outbound_http". Caught here, for route configs served over RDS and
 * those inline in a listener; Envoy would NACK either.
 */
import type { ConfigIssue } from './config-issue.js';

type Json = Record<string, unknown>;

export function checkDomains(routeConfig: Json, path: string): ConfigIssue[] {
  const errors: ConfigIssue[] = [];
  const seen = new Map<string, string>();
  ((routeConfig['virtual_hosts'] as Json[] | undefined) ?? []).forEach((host, h) => {
    ((host['domains'] as string[] | undefined) ?? []).forEach((domain, d) => {
      const key = domain.toLowerCase();
      const first = seen.get(key);
      const at = `virtual_hosts[${h}].domains[${d}]`;
      if (first === undefined) seen.set(key, at);
      else errors.push({ path: `${path}.${at}`, message: `domain "${domain}" is already listed at ${first}; Envoy would reject the route config` });
    });
  });
  return errors;
}
