import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import YAML from 'yaml';
import { watchFiles } from '../fs/watch-files.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { sha256 as hash } from './config-version.js';
import { StoreConflictError, StoreUnavailableError } from './ports/store-errors.js';
import type { ConfigStore, ConfigVersionInfo, StoredConfig } from './ports/config-store.js';
import type { DesiredState } from './desired-state/desired-state.js';
import { checkDocument, formatIssue, parseConfig, type ConfigIssue, type ConfigResult, type FleetConfig } from './config.js';
import { secretFilesBeside, type SecretFiles } from './secrets/secret-files.js';
import { SharedSecretFiles } from './secrets/shared-secret-files.js';

export type ReloadResult =
  | { readonly result: 'applied' | 'unchanged'; readonly nodesChanged: number; readonly warnings: readonly ConfigIssue[] }
  | { readonly result: 'rejected'; readonly errors: readonly ConfigIssue[]; readonly warnings: readonly ConfigIssue[] };

export interface ConfigServiceOptions {
  readonly file: string;
  /** Where an installed config goes; it holds the running config (the initial one to begin with). */
  readonly desired: Pick<DesiredState, 'config' | 'setConfig'>;
  readonly logger: Logger;
  readonly initial: {
    readonly text: string;
    readonly version?: number;
    /** The config file's text, when a shared store's version runs instead. */
    readonly fileText?: string;
  };
  /**
   * Where versions are kept. A shared store holds the running config of every replica: a
   * change is stored first, then applied here, and changes stored by others are applied too.
   */
  readonly store: ConfigStore;
  /** Told the outcome of every reload (for metrics). */
  readonly onResult?: (result: ReloadResult['result']) => void;
  /** Where secret files are read (default: this machine, beside the config file). */
  readonly secretFiles?: SecretFiles;
}

/**
 * Changes of the running config. A change is a transaction: a config with errors is rejected
 * whole, with every error, and the running config keeps serving; a valid one is stored first
 * (file, then version history or the shared store), and only then installed in the desired
 * state, which pushes the nodes whose resources changed. Changes run one at a time, in
 * arrival order.
 */
export class ConfigService {
  /** The stored version running now; undefined when it could not be recorded. */
  #version: number | undefined;
  /** The config file as last read here: a watch event with the same bytes is no change. */
  #fileHash: string;
  /** The text of the running config: read again, with fresh secret files, when one changes. */
  #text: string;
  readonly #secretFiles: SecretFiles;
  /** Told of every config installed (the secret file watch re-arms, Service watches follow). */
  readonly #installed = new Set<(config: FleetConfig) => void>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ConfigServiceOptions) {
    this.#version = options.initial.version;
    this.#text = options.initial.text;
    this.#fileHash = hash(options.initial.fileText ?? options.initial.text);
    this.#secretFiles = options.secretFiles ?? secretFilesBeside(options.file);
  }

  get current(): FleetConfig {
    return this.options.desired.config;
  }

  get version(): number | undefined {
    return this.#version;
  }

  versions(): Promise<ConfigVersionInfo[]> {
    return this.options.store.versions();
  }

  storedVersion(n: number): Promise<StoredConfig | undefined> {
    return this.options.store.version(n);
  }

  /** Re-reads the config file (SIGHUP, or a change seen on disk). */
  reload(trigger: 'signal' | 'watch'): Promise<ReloadResult> {
    return this.#serialized(async () => {
      const { file } = this.options;
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        return this.#rejected(trigger, [{ path: '', message: `cannot read ${file}: ${(err as Error).message}` }], []);
      }
      // Saving the same bytes again (or our own PUT, seen by the watcher) is no change.
      if (trigger === 'watch' && hash(text) === this.#fileHash) {
        return { result: 'unchanged', nodesChanged: 0, warnings: this.current.warnings };
      }
      this.#fileHash = hash(text);
      try {
        return await this.#apply(trigger, parseConfig(text, file, this.#secretFiles), text);
      } catch (err) {
        // Not stored, so not applied: this replica keeps serving what every replica serves.
        if (!(err instanceof StoreUnavailableError || err instanceof StoreConflictError)) throw err;
        return this.#rejected(trigger, [{ path: '', message: err.message }], []);
      }
    });
  }

  /**
   * Replaces the config with a document from the API (YAML text, or parsed JSON). A valid one is
   * written to the config file first, atomically, so the file and what is served never differ
   * and a restart serves the same config. With a shared store, the store is where it goes (the
   * local file, maybe a read-only ConfigMap, only seeds an empty store).
   */
  replace(body: string | object): Promise<ReloadResult> {
    return this.#serialized(async () => {
      const source = `PUT /v1/config`;
      const checked = typeof body === 'string' ? parseConfig(body, source, this.#secretFiles) : checkDocument(body, source, this.#secretFiles);
      if (!checked.ok) return this.#rejected('api', checked.errors, checked.warnings);
      const text = typeof body === 'string' ? body : YAML.stringify(body);
      if (!this.options.store.shared) {
        await writeFileAtomic(this.options.file, text);
        this.#fileHash = hash(text);
      }
      return this.#apply('api', { ok: true, config: { ...checked.config, source: this.options.file } }, text);
    });
  }

  /**
   * Reads the running config's secret files again (one changed on disk): a certificate rotation.
   * The config text is the same, so no version is stored; only the Secrets whose bytes changed
   * are new, and only they are pushed (listeners and clusters name them, unchanged). A rotation
   * caught half-written (a key that does not match its certificate yet) is rejected and the
   * running secrets keep serving until the files agree.
   */
  reloadSecrets(): Promise<ReloadResult> {
    return this.#serialized(async () => {
      const checked = parseConfig(this.#text, this.options.file, this.#secretFiles);
      if (!checked.ok) return this.#rejected('secrets', checked.errors, checked.warnings);
      return this.#install('secrets', { ...checked.config, source: this.options.file }, this.#version, this.#text);
    });
  }

  /** Reloads whenever the file changes on disk; returns the function that stops watching. */
  watch(): () => void {
    return watchFiles([this.options.file], () => void this.reload('watch'));
  }

  /**
   * Reads the secrets again whenever a file they come from changes, following the files of each
   * new config; returns the function that stops watching.
   */
  watchSecrets(): () => void {
    let watched = '';
    let stop = (): void => {};
    // Replicas sharing the files: a rotation another replica saw first is served here too.
    const stopFollowing = this.#secretFiles instanceof SharedSecretFiles ? this.#secretFiles.follow(() => void this.reloadSecrets()) : () => {};
    const arm = (): void => {
      const files = this.current.secretFiles;
      if (files.join('\0') === watched) return;
      stop();
      watched = files.join('\0');
      stop = files.length === 0 ? () => {} : watchFiles(files, () => void this.reloadSecrets());
    };
    arm();
    const stopArming = this.onInstalled(arm);
    return () => {
      stopArming();
      stopFollowing();
      stop();
    };
  }

  /** Calls `listener` with each config installed from now on; returns the function that stops. */
  onInstalled(listener: (config: FleetConfig) => void): () => void {
    this.#installed.add(listener);
    return () => this.#installed.delete(listener);
  }

  /** Applies the versions other replicas store; returns the function that stops. */
  follow(): () => void {
    return this.options.store.watch((stored) => void this.#applyStored(stored));
  }

  /** Applies the latest stored version if it is newer than the running one (after the store was unreachable). */
  async catchUp(): Promise<void> {
    const stored = await this.options.store.current();
    if (stored) await this.#applyStored(stored);
  }

  #applyStored(stored: StoredConfig): Promise<void> {
    return this.#serialized(async () => {
      if (this.#version !== undefined && stored.version <= this.#version) return;
      const checked = parseConfig(stored.text, `${this.options.file} (stored version ${stored.version})`, this.#secretFiles);
      if (!checked.ok) {
        this.#rejected('store', checked.errors, checked.warnings);
        return;
      }
      this.#install('store', { ...checked.config, source: this.options.file }, stored.version, stored.text);
    });
  }

  async #apply(trigger: string, checked: ConfigResult, text: string): Promise<ReloadResult> {
    if (!checked.ok) return this.#rejected(trigger, checked.errors, checked.warnings);
    const version = await this.#store(trigger, text);
    return this.#install(trigger, checked.config, version, text);
  }

  /**
   * Stores a valid config as the next version. A shared store must take it before it runs
   * here (else the replicas would serve different configs); the file store's history is a
   * record only, and failing to write it stops nothing.
   */
  async #store(trigger: string, text: string): Promise<number | undefined> {
    const { store, logger } = this.options;
    for (let attempt = 0; attempt < 5; attempt++) {
      let stored: StoredConfig | 'conflict';
      try {
        // The same bytes as the latest version (a SIGHUP with no change; every replica seeing
        // one ConfigMap change) are that version, not a new one.
        const latest = await store.current();
        if (latest?.sha256 === hash(text)) return latest.version;
        stored = await store.put(text, latest?.version, trigger);
      } catch (err) {
        if (store.shared) {
          throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(`the config could not be stored: ${(err as Error).message}`);
        }
        logger.warn({ event: 'config_history_failed', error: (err as Error).message }, 'config version not recorded');
        return undefined;
      }
      // 'conflict': another replica stored a version in between; look again.
      if (stored !== 'conflict') return stored.version;
    }
    throw new StoreConflictError('the config kept changing on other replicas while it was being stored; try again');
  }

  #install(trigger: string, config: FleetConfig, version: number | undefined, text: string): ReloadResult {
    const { desired, logger, file } = this.options;
    logConfigWarnings(logger, file, config.warnings);
    this.#version = version;
    this.#text = text;
    const nodesChanged = desired.setConfig(config);
    for (const listener of this.#installed) listener(config);
    // What was read anew is shared only once it is in use (a rejected read stays pending).
    if (this.#secretFiles instanceof SharedSecretFiles) void this.#secretFiles.publish();
    const result = nodesChanged === 0 ? 'unchanged' : 'applied';
    this.options.onResult?.(result);
    logger.info({ event: 'reload', trigger, result, nodesChanged, config: file, version }, `config reloaded: ${nodesChanged} node(s) changed`);
    return { result, nodesChanged, warnings: config.warnings };
  }

  #rejected(trigger: string, errors: readonly ConfigIssue[], warnings: readonly ConfigIssue[]): ReloadResult {
    const source = trigger === 'api' ? 'PUT /v1/config' : this.options.file;
    this.options.onResult?.('rejected');
    this.options.logger.error(
      { event: 'reload_rejected', trigger, errors: errors.map((e) => formatIssue(source, e)) },
      'config rejected; the running config keeps serving',
    );
    return { result: 'rejected', errors, warnings };
  }

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

/** One log line per config warning, as `file:line:col: path: message`. */
export function logConfigWarnings(logger: Logger, source: string, warnings: readonly ConfigIssue[]): void {
  for (const w of warnings) logger.warn({ event: 'config_warning', path: w.path }, formatIssue(source, w));
}
