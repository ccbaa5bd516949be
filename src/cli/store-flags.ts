import { parseStoreUrl, type StoreOptions } from '../store/open-store.js';
import { CliError } from './errors.js';

/** The flags that choose and reach the state store (serve and run share them). */
export const STORE_FLAGS = {
  store: { type: 'string' },
  'store-ca': { type: 'string' },
  'store-cert': { type: 'string' },
  'store-key': { type: 'string' },
  'store-prefix': { type: 'string' },
  'store-lease-seconds': { type: 'string' },
  'replica-id': { type: 'string' },
} as const;

export const STORE_HELP = `State store (default file://STATE_DIR, one replica):
  --store etcd://HOST:PORT[,HOST:PORT]   share drains, config and node status with other replicas
  --store-ca FILE --store-cert FILE --store-key FILE   TLS to etcd (PEM)
  --store-prefix /drainplane/            etcd key prefix
  --store-lease-seconds 10               leader lease and node-record TTL: a dead leader is replaced within it
  --replica-id ID                        this replica's name (default: host name and pid)`;

/** StoreOptions from the flags; errors name the flag. */
export function storeOptions(values: Record<string, string | boolean | undefined>, stateDir: string): StoreOptions {
  const url = (values['store'] as string | undefined) ?? `file://${stateDir}`;
  const location = parseStoreUrl(url);
  if ('error' in location) throw new CliError(`--store ${url}: ${location.error}`);
  const etcdOnly = ['store-ca', 'store-cert', 'store-key', 'store-prefix', 'store-lease-seconds'].filter((f) => values[f] !== undefined);
  if (location.kind === 'file' && etcdOnly.length > 0) {
    throw new CliError(`--${etcdOnly[0]} needs an etcd store (--store etcd://HOST:PORT)`);
  }
  const lease = values['store-lease-seconds'] as string | undefined;
  const leaseSeconds = lease === undefined ? undefined : Number(lease);
  if (leaseSeconds !== undefined && !(Number.isInteger(leaseSeconds) && leaseSeconds >= 2)) {
    throw new CliError(`--store-lease-seconds must be a whole number of seconds, at least 2; got "${lease}"`);
  }
  const prefix = values['store-prefix'] as string | undefined;
  if (prefix !== undefined && !prefix.endsWith('/')) throw new CliError(`--store-prefix must end with "/", got "${prefix}"`);
  const files = { ca: values['store-ca'], cert: values['store-cert'], key: values['store-key'] };
  const tls = Object.fromEntries(Object.entries(files).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const replica = values['replica-id'] as string | undefined;
  return {
    url,
    ...(Object.keys(tls).length > 0 && { tls }),
    ...(prefix !== undefined && { prefix }),
    ...(leaseSeconds !== undefined && { leaseSeconds }),
    ...(replica !== undefined && { replica }),
  };
}
