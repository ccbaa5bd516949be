import type { Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { watchFiles } from '../fs/watch-files.js';
import { readTlsMaterial, sameMaterial, TlsFileError, type TlsFiles, type TlsMaterial } from './tls-material.js';

type Listener = (material: TlsMaterial) => void;

/**
 * A server's TLS certificate, key and optional CA, read from files and re-read when they
 * change on disk (cert-manager renewals, Kubernetes Secret updates). A bad new set is logged
 * as an error and the one in use stays; listeners only ever see material that passed the
 * checks of readTlsMaterial.
 */
export class CertificateFiles {
  readonly #listeners = new Set<Listener>();
  #current: TlsMaterial;

  private constructor(
    readonly files: TlsFiles,
    private readonly logger: Logger,
    initial: TlsMaterial,
  ) {
    this.#current = initial;
  }

  /** Reads the files once; throws a TlsFileError naming the bad file. */
  static async load(files: TlsFiles, logger: Logger): Promise<CertificateFiles> {
    const material = await readTlsMaterial(files);
    logger.info({ event: 'tls_loaded', ...describe(material) }, `serving certificate ${material.serialNumber}`);
    return new CertificateFiles(files, logger, material);
  }

  get current(): TlsMaterial {
    return this.#current;
  }

  /** Calls `listener` with every new set of material; returns the function that unsubscribes. */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reloads whenever one of the files changes; returns the function that stops watching. */
  watch(): () => void {
    const { cert, key, ca } = this.files;
    return watchFiles(ca === undefined ? [cert, key] : [cert, key, ca], () => void this.reload());
  }

  /** Re-reads the files; true when a new certificate (or key, or CA) is now in use. */
  async reload(): Promise<boolean> {
    let next: TlsMaterial;
    try {
      next = await readTlsMaterial(this.files);
    } catch (err) {
      if (!(err instanceof TlsFileError)) throw err;
      this.logger.error(
        { event: 'tls_reload_failed', file: err.file, error: err.message, ...describe(this.#current) },
        `TLS files not reloaded, still serving certificate ${this.#current.serialNumber}: ${err.message}`,
      );
      return false;
    }
    if (sameMaterial(next, this.#current)) return false;
    this.#current = next;
    this.logger.info({ event: 'tls_reloaded', ...describe(next) }, `now serving certificate ${next.serialNumber}`);
    for (const listener of this.#listeners) listener(next);
    return true;
  }
}

function describe(m: TlsMaterial): Record<string, string> {
  return { serialNumber: m.serialNumber, fingerprint256: m.fingerprint256, validTo: m.validTo };
}

/**
 * Keeps a TLS server (node:https, node:http2) handing the newest certificate to new
 * connections; established ones keep theirs. Returns the function that stops following.
 */
export function followCertificate(files: CertificateFiles, server: Pick<TlsServer, 'setSecureContext'>): () => void {
  return files.onChange((m) => server.setSecureContext({ cert: m.cert, key: m.key, ...(m.ca && { ca: m.ca }) }));
}
