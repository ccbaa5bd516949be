/**
 * Which endpoints an endpoint drain takes: checking the request's target (every error names its
 * field) and matching it against the endpoints of an assignment.
 */
import { isIP } from 'node:net';
import type { FieldError } from '../drain/field-error.js';
import type { EndpointTarget } from '../drain/model.js';
import { hostPort, type AssignedEndpoint } from './assignment.js';

const LOCALITY_FIELDS = ['region', 'zone', 'subZone'] as const;

/** What is wrong with a target, each under `endpoints.<field>`. */
export function endpointTargetProblems(t: EndpointTarget): FieldError[] {
  const problems: FieldError[] = [];
  const locality = t.locality ?? {};
  const given = t.addresses !== undefined || t.cluster !== undefined || t.locality !== undefined || Object.keys(t.metadata ?? {}).length > 0;
  if (!given) problems.push({ field: 'endpoints', message: 'name the endpoints: addresses, cluster, locality or metadata' });
  if (t.addresses !== undefined) {
    if (t.addresses.length === 0) problems.push({ field: 'endpoints.addresses', message: 'must name at least one HOST:PORT' });
    t.addresses.forEach((a, i) => {
      if (normalAddress(a) === undefined) {
        problems.push({ field: `endpoints.addresses[${i}]`, message: `must be HOST:PORT (IPv6 as [::1]:8080), got ${JSON.stringify(a)}` });
      }
    });
  }
  if (t.cluster === '') problems.push({ field: 'endpoints.cluster', message: 'must not be empty' });
  if (t.locality !== undefined) {
    const named = LOCALITY_FIELDS.filter((f) => locality[f] !== undefined);
    if (named.length === 0) problems.push({ field: 'endpoints.locality', message: 'must name at least one of region, zone, subZone' });
    for (const f of named) if (locality[f] === '') problems.push({ field: `endpoints.locality.${f}`, message: 'must not be empty' });
  }
  for (const [key, value] of Object.entries(t.metadata ?? {})) {
    if (key === '') problems.push({ field: 'endpoints.metadata', message: 'a key must not be empty' });
    else if (value === '') problems.push({ field: `endpoints.metadata.${key}`, message: 'must not be empty' });
  }
  return problems;
}

/**
 * `HOST:PORT` spelled as assignments are read (assignment.ts), or undefined when it is none: a
 * port of 1-65535 and a host without spaces; an IPv6 host in brackets.
 */
export function normalAddress(value: string): string | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  const v6 = match[1];
  if (v6 !== undefined && isIP(v6) !== 6) return undefined;
  return hostPort(v6 ?? match[2]!, port);
}

/** A target with its addresses spelled the way assignments are read, for matching many endpoints. */
export interface EndpointMatcher {
  matches(endpoint: AssignedEndpoint): boolean;
}

/** Every given criterion must hold. */
export function endpointMatcher(t: EndpointTarget): EndpointMatcher {
  const addresses = t.addresses && new Set(t.addresses.map((a) => normalAddress(a) ?? a));
  const locality = t.locality ?? {};
  const labels = Object.entries(t.metadata ?? {});
  return {
    matches: (e) =>
      (addresses === undefined || addresses.has(e.address)) &&
      (t.cluster === undefined || t.cluster === e.cluster) &&
      LOCALITY_FIELDS.every((f) => locality[f] === undefined || locality[f] === e.locality[f]) &&
      labels.every(([key, want]) => isScalar(e.labels[key]) && String(e.labels[key]) === want),
  };
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** A target in one line, for lists and logs: `10.0.0.7:8080` or `cluster=app zone=a tier=canary`, `(remove)` added. */
export function describeTarget(t: EndpointTarget): string {
  const parts = [
    ...(t.addresses ?? []),
    ...(t.cluster !== undefined ? [`cluster=${t.cluster}`] : []),
    ...LOCALITY_FIELDS.flatMap((f) => (t.locality?.[f] !== undefined ? [`${f}=${t.locality[f]}`] : [])),
    ...Object.entries(t.metadata ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
  return `${parts.join(' ')}${t.remove === true ? ' (remove)' : ''}`;
}
