/** The config version record: the domain's rules for it, which every store follows. */
import { createHash } from 'node:crypto';
import type { ConfigVersionInfo, StoredConfig } from './ports/config-store.js';

/** How many config versions a store keeps. */
export const KEPT_CONFIG_VERSIONS = 20;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The record of a new config version. */
export function newConfigVersion(text: string, version: number, origin: string, replica: string): StoredConfig {
  return { version, text, sha256: sha256(text), at: new Date().toISOString(), origin, replica };
}

export function versionInfo({ text: _text, ...info }: StoredConfig): ConfigVersionInfo {
  return info;
}
