/**
 * gRPC server credentials that follow a CertificateFiles: new connections get the newest
 * certificate (and CA), while connections already established keep their TLS session and
 * their streams.
 *
 * grpc-js (1.14) applies certificate-provider updates with `Http2SecureServer#setSecureContext`
 * (server.ts, createHttp2Server), which touches only later handshakes. Its own
 * FileWatcherCertificateProvider polls on a timer and reports a file that is missing for a
 * moment, or a key that does not match, as "no credentials", which makes grpc-js drop every new
 * connection until the next good read. The provider here only ever hands over material that
 * passed CertificateFiles' checks.
 */
import * as grpc from '@grpc/grpc-js';
import type { CertificateFiles } from './certificate-files.js';
import type { TlsMaterial } from './tls-material.js';

type CertificateProvider = grpc.experimental.CertificateProvider;
type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

/** TLS credentials for the xDS port; with a CA in the files, mutual TLS (client certificate required and verified). */
export function grpcServerCredentials(files: CertificateFiles): grpc.ServerCredentials {
  const provider = new CertificateFilesProvider(files);
  const mutual = files.current.ca !== undefined;
  // grpc-js 1.14 names the first parameter `caCertificateProvider`, but passes it on as the
  // identity (certificate and key) provider; the second, nullable one is the CA provider
  // (server-credentials.ts, createCertificateProviderServerCredentials).
  return grpc.experimental.createCertificateProviderServerCredentials(provider, mutual ? provider : null, mutual);
}

class CertificateFilesProvider implements CertificateProvider {
  readonly #unsubscribe = new Map<CaListener | IdentityListener, () => void>();

  constructor(private readonly files: CertificateFiles) {}

  addCaCertificateListener(listener: CaListener): void {
    this.#add(listener, (m) => listener(m.ca ? { caCertificate: m.ca } : null));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#remove(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#add(listener, (m) => listener({ certificate: m.cert, privateKey: m.key }));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#remove(listener);
  }

  #add(key: CaListener | IdentityListener, deliver: (m: TlsMaterial) => void): void {
    this.#unsubscribe.set(key, this.files.onChange(deliver));
    // Not synchronously: grpc-js registers the server's watcher only after subscribing here,
    // and a synchronous update would reach no one, leaving the port without credentials.
    process.nextTick(() => {
      if (this.#unsubscribe.has(key)) deliver(this.files.current);
    });
  }

  #remove(key: CaListener | IdentityListener): void {
    this.#unsubscribe.get(key)?.();
    this.#unsubscribe.delete(key);
  }
}
