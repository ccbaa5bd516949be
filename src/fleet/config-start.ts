import type { Logger } from 'pino';
import { sha256 } from './config-version.js';
import type { ConfigStore } from './ports/config-store.js';
import { parseConfig, type ConfigIssue, type FleetConfig } from './config.js';
import { secretFilesBeside, type SecretFiles } from './secrets/secret-files.js';

export interface StartingConfig {
  readonly config: FleetConfig;
  readonly text: string;
  /** Its stored version; undefined when the file store could not record it. */
  readonly version?: number;
}

/**
 * The config a daemon starts with. The config file, unless a shared store already holds a
 * config: then the stored one runs (every replica serves the same), and the file only seeded
 * the store when it was empty. The file's config is recorded as a new version when it differs
 * from the last stored one.
 */
export async function startingConfig(
  store: ConfigStore,
  fromFile: { readonly file: string; readonly text: string; readonly config: FleetConfig },
  logger: Logger,
  secretFiles: SecretFiles = secretFilesBeside(fromFile.file),
): Promise<StartingConfig | { readonly source: string; readonly errors: readonly ConfigIssue[] }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const stored = await store.current();
    if (stored?.sha256 === sha256(fromFile.text)) return { config: fromFile.config, text: fromFile.text, version: stored.version };
    if (stored && store.shared) {
      const source = `${fromFile.file} (stored version ${stored.version})`;
      const parsed = parseConfig(stored.text, source, secretFiles);
      if (!parsed.ok) return { source, errors: parsed.errors };
      logger.info(
        { event: 'config_from_store', version: stored.version, storedBy: stored.replica, at: stored.at },
        `serving the stored config version ${stored.version}; ${fromFile.file} differs and is not applied (change it, or SIGHUP, to store it)`,
      );
      return { config: { ...parsed.config, source: fromFile.file }, text: stored.text, version: stored.version };
    }
    let put;
    try {
      put = await store.put(fromFile.text, stored?.version, 'start');
    } catch (err) {
      if (store.shared) throw err;
      logger.warn({ event: 'config_history_failed', error: (err as Error).message }, 'config version not recorded');
      return { config: fromFile.config, text: fromFile.text };
    }
    // 'conflict': another replica stored its config first; look again.
    if (put !== 'conflict') return { config: fromFile.config, text: fromFile.text, version: put.version };
  }
  throw new Error('the stored config kept changing while this replica started');
}
