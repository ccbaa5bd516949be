/**
 * A throwaway certificate authority for TLS tests: EC P-256 keys and certificates made with the
 * `openssl` command in a temp folder (a few milliseconds each).
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rename, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  /** subjectAltName entries, e.g. `DNS:localhost`, `IP:127.0.0.1`, `URI:spiffe://...`. */
  readonly sans: readonly string[];
  /** Hex serial number; a distinct one per certificate makes rotations visible. */
  readonly serial?: string;
}

export interface TestPki {
  readonly dir: string;
  /** The CA certificate (trust anchor) file. */
  readonly caCert: string;
  /** A key and a certificate signed by the CA, as `<name>.key` and `<name>.crt` in `dir`. */
  issue(name: string, options: IssueOptions): Promise<CertFiles>;
  close(): Promise<void>;
}

/** `openssl req` options for a new P-256 key, without reading the system's openssl.cnf. */
const NEW_KEY = ['-config', '/dev/null', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'];

let nextSerial = 0x1000;

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-pki-'));
  const ca = { cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') };
  await openssl(
    ...['req', '-x509', ...NEW_KEY, '-keyout', ca.key, '-out', ca.cert, '-subj', '/CN=drainplane test CA'],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
  return {
    dir,
    caCert: ca.cert,
    async issue(name, options) {
      const out = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
      await openssl(
        ...['req', '-x509', ...NEW_KEY, '-keyout', out.key, '-out', out.cert, '-subj', `/CN=${name}`],
        ...['-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${options.serial ?? (nextSerial++).toString(16)}`],
        ...['-addext', `subjectAltName=${options.sans.join(',')}`, '-addext', 'basicConstraints=critical,CA:FALSE'],
        ...['-addext', 'extendedKeyUsage=serverAuth,clientAuth'],
      );
      return out;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function openssl(...args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    throw new Error(`openssl ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
}

/**
 * The serial number of the certificate a TLS server on 127.0.0.1:port hands a new connection
 * (offering h2, as gRPC clients do, and http/1.1), verified against `ca`.
 */
export function servedSerial(port: number, ca: Buffer, client?: { cert: Buffer; key: Buffer }): Promise<string> {
  return new Promise((resolve, reject) => {
    // The server certificate names localhost too; SNI may not carry an IP address (RFC 6066).
    const socket = connect({ host: '127.0.0.1', servername: 'localhost', port, ca, ALPNProtocols: ['h2', 'http/1.1'], ...client }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

/**
 * A certificate and key laid out as the kubelet mounts a Kubernetes TLS Secret: `tls.crt` and
 * `tls.key` are symlinks into `..data`, itself a symlink to a timestamped folder; an update
 * writes a new folder and swaps `..data` by rename, so both files change at once.
 */
export class SecretVolume {
  #version = 0;

  private constructor(readonly dir: string) {}

  get cert(): string {
    return path.join(this.dir, 'tls.crt');
  }

  get key(): string {
    return path.join(this.dir, 'tls.key');
  }

  static async create(dir: string, files: CertFiles): Promise<SecretVolume> {
    await mkdir(dir, { recursive: true });
    const volume = new SecretVolume(dir);
    await volume.update(files);
    await symlink(path.join('..data', 'tls.crt'), volume.cert);
    await symlink(path.join('..data', 'tls.key'), volume.key);
    return volume;
  }

  async update(files: CertFiles): Promise<void> {
    const version = `..v${++this.#version}`;
    await mkdir(path.join(this.dir, version));
    await copyFile(files.cert, path.join(this.dir, version, 'tls.crt'));
    await copyFile(files.key, path.join(this.dir, version, 'tls.key'));
    await symlink(version, path.join(this.dir, '..data_tmp'));
    await rename(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
  }
}
