import type { Logger } from 'pino';
import type { DaemonOptions } from '../daemon.js';
import { CertificateFiles } from '../tls/certificate-files.js';
import { nodeIdentityAuthorizer } from '../tls/node-identity.js';
import { TlsFileError, type TlsFiles } from '../tls/tls-material.js';
import { CliError } from './errors.js';

/** The TLS flags of `drainplane serve`, for parseFlags. */
export const TLS_FLAGS = {
  'api-tls-cert': { type: 'string' },
  'api-tls-key': { type: 'string' },
  'xds-tls-cert': { type: 'string' },
  'xds-tls-key': { type: 'string' },
  'xds-tls-ca': { type: 'string' },
  'xds-node-identity': { type: 'string' },
} as const;

export const TLS_HELP = `TLS (the files are reloaded when they change; a bad new set is logged and the old one stays):
  --api-tls-cert FILE --api-tls-key FILE   serve the API over HTTPS
  --xds-tls-cert FILE --xds-tls-key FILE   serve xDS over TLS
  --xds-tls-ca FILE                        mutual TLS: clients need a certificate this CA signed
  --xds-node-identity TEMPLATE             with --xds-tls-ca: a client certificate URI or DNS name
                                           must match TEMPLATE, e.g. '{node.id}' or
                                           'spiffe://cluster.local/ns/*/sa/{node.id}'`;

type TlsOptions = Pick<DaemonOptions, 'apiTls' | 'xdsTls' | 'authorizeNode'>;

/** Reads the certificates the flags name; a bad flag or file is a CliError naming both. */
export async function tlsOptions(values: Readonly<Record<string, string | boolean | undefined>>, logger: Logger): Promise<TlsOptions> {
  const flag = (name: keyof typeof TLS_FLAGS): string | undefined => values[name] as string | undefined;
  const apiFiles = pair('api', flag('api-tls-cert'), flag('api-tls-key'));
  const xdsFiles = pair('xds', flag('xds-tls-cert'), flag('xds-tls-key'));
  const ca = flag('xds-tls-ca');
  const template = flag('xds-node-identity');
  if (ca !== undefined && !xdsFiles) throw new CliError('--xds-tls-ca needs --xds-tls-cert and --xds-tls-key');
  if (template !== undefined && ca === undefined) {
    throw new CliError('--xds-node-identity needs mutual TLS: give --xds-tls-ca, the CA that signs the client certificates');
  }
  let authorizeNode;
  try {
    authorizeNode = template === undefined ? undefined : nodeIdentityAuthorizer(template);
  } catch (err) {
    throw new CliError(`--xds-node-identity: ${(err as Error).message}`);
  }
  const apiTls = apiFiles && (await load('api', apiFiles, logger));
  const xdsTls = xdsFiles && (await load('xds', { ...xdsFiles, ...(ca !== undefined && { ca }) }, logger));
  return { ...(apiTls && { apiTls }), ...(xdsTls && { xdsTls }), ...(authorizeNode && { authorizeNode }) };
}

function pair(port: 'api' | 'xds', cert: string | undefined, key: string | undefined): TlsFiles | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new CliError(`--${port}-tls-cert and --${port}-tls-key go together`);
  return { cert, key };
}

async function load(port: 'api' | 'xds', files: TlsFiles, logger: Logger): Promise<CertificateFiles> {
  try {
    return await CertificateFiles.load(files, logger.child({ component: `${port}-tls` }));
  } catch (err) {
    if (err instanceof TlsFileError) throw new CliError(`--${port}-tls-${err.role}: ${err.message}`, 1);
    throw err;
  }
}
