import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import YAML from 'yaml';
import type { SnapshotCache, SnapshotResolver } from '../cache/snapshot-cache.js';
import { watchFiles } from '../fs/watch-files.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { checkDocument, formatIssue, parseConfig, type ConfigIssue, type ConfigResult, type FleetConfig } from './config.js';

export type ReloadResult =
  | { readonly result: 'applied' | 'unchanged'; readonly nodesChanged: number; readonly warnings: readonly ConfigIssue[] }
  | { readonly result: 'rejected'; readonly errors: readonly ConfigIssue[]; readonly warnings: readonly ConfigIssue[] };

export interface ConfigServiceOptions {
  readonly file: string;
  readonly cache: SnapshotCache;
  readonly logger: Logger;
  readonly initial: { readonly config: FleetConfig; readonly text: string };
  /** The resolver the cache uses for a config (the drains wrap it). */
  readonly resolver: (config: FleetConfig) => SnapshotResolver;
  /** Told the outcome of every reload (for metrics). */
  readonly onResult?: (result: ReloadResult['result']) => void;
}

/**
 * The running config and its changes. A change is atomic: a config with errors is rejected
 * whole, with every error, and the running config keeps serving; a valid one is pushed only to
 * the nodes whose resources changed. Changes are applied one at a time, in arrival order.
 */
export class ConfigService {
  #config: FleetConfig;
  #textHash: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ConfigServiceOptions) {
    this.#config = options.initial.config;
    this.#textHash = hash(options.initial.text);
  }

  get current(): FleetConfig {
    return this.#config;
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
      if (trigger === 'watch' && hash(text) === this.#textHash) {
        return { result: 'unchanged', nodesChanged: 0, warnings: this.#config.warnings };
      }
      return this.#apply(trigger, parseConfig(text, file), text);
    });
  }

  /**
   * Replaces the config with a document from the API (YAML text, or parsed JSON). A valid one is
   * written to the config file first, atomically, so the file and what is served never differ
   * and a restart serves the same config.
   */
  replace(body: string | object): Promise<ReloadResult> {
    return this.#serialized(async () => {
      const source = `PUT /v1/config`;
      const checked = typeof body === 'string' ? parseConfig(body, source) : checkDocument(body, source);
      if (!checked.ok) return this.#rejected('api', checked.errors, checked.warnings);
      const text = typeof body === 'string' ? body : YAML.stringify(body);
      await writeFileAtomic(this.options.file, text);
      return this.#apply('api', { ok: true, config: { ...checked.config, source: this.options.file } }, text);
    });
  }

  /** Reloads whenever the file changes on disk; returns the function that stops watching. */
  watch(): () => void {
    return watchFiles([this.options.file], () => void this.reload('watch'));
  }

  #apply(trigger: string, checked: ConfigResult, text: string): ReloadResult {
    const { cache, logger, file } = this.options;
    if (!checked.ok) return this.#rejected(trigger, checked.errors, checked.warnings);
    logConfigWarnings(logger, file, checked.config.warnings);
    const before = new Map(cache.nodes().map((n) => [n.id, cache.snapshot(n.id)]));
    this.#config = checked.config;
    this.#textHash = hash(text);
    cache.setResolver(this.options.resolver(checked.config));
    const nodesChanged = [...before].filter(([id, s]) => cache.snapshot(id) !== s).length;
    const result = nodesChanged === 0 ? 'unchanged' : 'applied';
    this.options.onResult?.(result);
    logger.info({ event: 'reload', trigger, result, nodesChanged, config: file }, `config reloaded: ${nodesChanged} node(s) changed`);
    return { result, nodesChanged, warnings: checked.config.warnings };
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

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
