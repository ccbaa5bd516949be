/**
 * The flags of `drainplane drain` as an API drain request.
 */
import { DRAIN_METHODS, SCOPE_NAMES, type DrainMethod } from '../fleet/drain/model.js';
import type { DrainRequestBody } from '../api/schemas/drain.js';
import { CliError } from './errors.js';

type Selector = NonNullable<DrainRequestBody['selector']>;
type Scope = NonNullable<DrainRequestBody['scope']>;

/**
 * The request the flags describe. Only the syntax is checked here: the API judges the
 * values (a batch of 0, a negative deadline) and its field errors are printed as they are.
 */
export function drainRequest(v: Readonly<Record<string, string | boolean | undefined>>): DrainRequestBody {
  const method = v['method'] as string | undefined;
  if (method !== undefined && !(DRAIN_METHODS as readonly string[]).includes(method)) {
    throw new CliError(`--method must be one of ${DRAIN_METHODS.join(', ')}; got "${method}"`);
  }
  const batch = v['batch'] as string | undefined;
  const deadline = v['deadline'] as string | undefined;
  const threshold = v['threshold'] as string | undefined;
  const egressAfter = v['egress-after'] as string | undefined;
  const endpoint = v['endpoint'] as string | undefined;
  const selector = v['selector'] as string | undefined;
  const scope = v['scope'] as string | undefined;
  if (endpoint === undefined) {
    if (selector === undefined) throw new CliError('drain: --selector is required (or --endpoint, for an endpoint drain)');
    if (scope === undefined) throw new CliError('drain: --scope is required (or --endpoint, for an endpoint drain)');
  } else if (v['remove'] !== true && v['remove'] !== undefined) {
    throw new CliError('--remove takes no value');
  }
  return {
    ...(endpoint !== undefined && { endpoints: endpointTarget(endpoint, v['remove'] === true) }),
    ...(selector !== undefined && { selector: parseSelector(selector) }),
    ...(scope !== undefined && { scope: parseScope(scope) }),
    ...(method !== undefined && { method: method as DrainMethod }),
    ...(batch !== undefined && { batch: parseBatch(batch) }),
    ...(deadline !== undefined && { deadlineSeconds: number('deadline', deadline) }),
    ...(threshold !== undefined && { threshold: integer('threshold', threshold) }),
    ...(egressAfter !== undefined && { egress: parseEgressAfter(egressAfter) }),
    ...(v['confirm'] === true && { confirm: true }),
  };
}

/** `--endpoint 10.0.0.7:8080,10.0.0.8:8080`: the API checks each address and names a wrong one. */
export function endpointTarget(text: string, remove: boolean): NonNullable<DrainRequestBody['endpoints']> {
  const addresses = text
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (addresses.length === 0) throw new CliError('--endpoint must name HOST:PORT[,HOST:PORT...]');
  return { addresses, ...(remove && { remove: true }) };
}

const SELECTOR_KEYS = 'id, ids, cluster, region, zone, sub_zone or metadata.KEY';

/** `cluster=edge,zone=a,id=n1,id=n2,metadata.tier=public`: keys that take one value refuse a second. */
export function parseSelector(text: string): Selector {
  const ids: string[] = [];
  const metadata: Record<string, string> = {};
  const locality: { region?: string; zone?: string; subZone?: string } = {};
  let cluster: string | undefined;
  for (const pair of text.split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    const key = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (key === '') throw new CliError(`--selector: "${pair}" has an empty key (use ${SELECTOR_KEYS})`);
    if (value === '') throw new CliError(`--selector: key "${key}" needs a value, as in ${key}=VALUE`);
    switch (key) {
      case 'id':
        ids.push(value);
        break;
      case 'ids':
        ids.push(...value.split('|').filter((id) => id !== ''));
        break;
      case 'cluster':
        cluster = once(key, cluster, value);
        break;
      case 'region':
        locality.region = once(key, locality.region, value);
        break;
      case 'zone':
        locality.zone = once(key, locality.zone, value);
        break;
      case 'sub_zone':
        locality.subZone = once(key, locality.subZone, value);
        break;
      default: {
        const name = key.startsWith('metadata.') ? key.slice('metadata.'.length) : '';
        if (name === '') throw new CliError(`--selector: unknown key "${key}" (use ${SELECTOR_KEYS})`);
        metadata[name] = once(key, metadata[name], value);
      }
    }
  }
  const selector: Selector = {
    ...(ids.length > 0 && { ids }),
    ...(cluster !== undefined && { cluster }),
    ...(Object.keys(metadata).length > 0 && { metadata }),
    ...(Object.keys(locality).length > 0 && { locality }),
  };
  if (Object.keys(selector).length === 0) {
    throw new CliError(`--selector is empty: a drain must name the nodes it takes (use ${SELECTOR_KEYS})`);
  }
  return selector;
}

function once(key: string, seen: string | undefined, value: string): string {
  if (seen !== undefined) throw new CliError(`--selector: "${key}" is given twice`);
  return value;
}

function parseScope(text: string): Scope {
  const named = SCOPE_NAMES.find((s) => s === text);
  if (named) return named;
  if (text.startsWith('listener:')) {
    const listeners = text
      .slice('listener:'.length)
      .split(',')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (listeners.length > 0) return { listeners };
  }
  throw new CliError(`--scope must be ingress, egress, all or listener:NAME[,NAME...]; got "${text}"`);
}

function parseBatch(text: string): NonNullable<DrainRequestBody['batch']> {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (percent) return { percent: Number(percent[1]) };
  if (/^\d+$/.test(text)) return { size: Number(text) };
  throw new CliError(`--batch must be a node count (5) or a percent of the nodes (25%); got "${text}"`);
}

function parseEgressAfter(text: string): NonNullable<DrainRequestBody['egress']> {
  if (text === 'ingress-complete' || text === 'advance' || text === 'egress-idle') return { after: text };
  if (/^\d+(?:\.\d+)?$/.test(text)) return { after: 'delay', delaySeconds: Number(text) };
  throw new CliError(`--egress-after must be ingress-complete, advance, egress-idle or a delay in seconds; got "${text}"`);
}

function number(flag: string, text: string): number {
  if (!/^\d+(?:\.\d+)?$/.test(text)) throw new CliError(`--${flag} must be a number of seconds; got "${text}"`);
  return Number(text);
}

function integer(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new CliError(`--${flag} must be a whole number; got "${text}"`);
  return Number(text);
}
