/**
 * A certificate, its private key and optionally a CA bundle, read from PEM files and checked
 * the way a TLS server would use them, so that a bad file is refused with a message that names
 * it rather than breaking handshakes later.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** CA bundle that client certificates must chain to (mutual TLS); none: no client certificates. */
  readonly ca?: string;
}

export type TlsFileRole = keyof TlsFiles;

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  /** Of the (leaf) certificate, for log lines: which certificate is being served. */
  readonly serialNumber: string;
  readonly fingerprint256: string;
  readonly validTo: string;
}

/** A file that is missing, unreadable, or not what its role needs. */
export class TlsFileError extends Error {
  constructor(
    readonly role: TlsFileRole,
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads and checks the files; throws a TlsFileError naming the first bad one. */
export async function readTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const [cert, key, ca] = await Promise.all([
    read('cert', files.cert),
    read('key', files.key),
    files.ca === undefined ? undefined : read('ca', files.ca),
  ]);
  const leaf = parse('cert', files.cert, 'a PEM certificate', () => new X509Certificate(cert));
  const privateKey = parse('key', files.key, 'a PEM private key', () => createPrivateKey(key));
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsFileError('key', files.key, `${files.key} is not the private key of the certificate in ${files.cert}`);
  }
  if (ca !== undefined) parse('ca', files.ca!, 'a PEM CA certificate bundle', () => new X509Certificate(ca));
  // What setSecureContext will do with them: anything Node's TLS refuses is refused here.
  parse('cert', files.cert, 'usable by TLS', () => createSecureContext({ cert, key, ...(ca && { ca }) }));
  return {
    cert,
    key,
    ...(ca && { ca }),
    serialNumber: leaf.serialNumber,
    fingerprint256: leaf.fingerprint256,
    validTo: leaf.validTo,
  };
}

/** True when both hold the same bytes (a change event that changed nothing). */
export function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca === b.ca || (!!a.ca && !!b.ca && a.ca.equals(b.ca)));
}

async function read(role: TlsFileRole, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new TlsFileError(role, file, `cannot read ${file}: ${(err as Error).message}`);
  }
}

function parse<T>(role: TlsFileRole, file: string, what: string, parser: () => T): T {
  try {
    return parser();
  } catch (err) {
    throw new TlsFileError(role, file, `${file} is not ${what}: ${(err as Error).message}`);
  }
}
