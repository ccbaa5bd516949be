/**
 * A certificate and its key checked before they are served. Envoy refuses (NACKs) a Secret whose
 * key does not match its certificate and keeps the old one; drainplane refuses it first, so a
 * rotation caught half-written (the new certificate beside the old key) is an error on this
 * side, named by file, and the Envoys keep serving while the second file arrives.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { ConfigIssue } from '../config-issue.js';

type Json = Record<string, unknown>;

export interface KeyPairFindings {
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

/** Checks a Secret's tls_certificate (inline, after its files were read), at `now`. */
export function checkKeyPair(secret: Json, path: string, now: Date = new Date()): KeyPairFindings {
  const tls = secret['tls_certificate'] as Json | undefined;
  const chain = inlineBytes(tls?.['certificate_chain']);
  if (!tls || !chain) return { errors: [], warnings: [] };
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const at = `${path}.tls_certificate`;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(chain);
  } catch (err) {
    return { errors: [{ path: `${at}.certificate_chain`, message: `not a PEM certificate: ${(err as Error).message}` }], warnings };
  }
  if (Date.parse(certificate.validTo) < now.getTime()) {
    warnings.push({ path: `${at}.certificate_chain`, message: `the certificate expired on ${certificate.validTo} (${certificate.subject})` });
  }
  const keyBytes = inlineBytes(tls['private_key']);
  // An encrypted key (password) or a key provider is for Envoy alone to open.
  if (!keyBytes || tls['password'] !== undefined || tls['private_key_provider'] !== undefined) return { errors, warnings };
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(keyBytes))) {
      errors.push({
        path: `${at}.private_key`,
        message: `the private key does not match the certificate in certificate_chain (${certificate.subject}); Envoy would refuse the pair`,
      });
    }
  } catch (err) {
    errors.push({ path: `${at}.private_key`, message: `not a PEM private key: ${(err as Error).message}` });
  }
  return { errors, warnings };
}

function inlineBytes(source: unknown): Buffer | undefined {
  const s = source as Json | undefined;
  if (typeof s?.['inline_bytes'] === 'string') return Buffer.from(s['inline_bytes'], 'base64');
  if (typeof s?.['inline_string'] === 'string') return Buffer.from(s['inline_string']);
  return undefined;
}
