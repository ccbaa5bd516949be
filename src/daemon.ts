/**
 * The composition root: the one place that wires the concrete parts together.
 */
import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from './api/app.js';
import { SnapshotCache } from './cache/snapshot-cache.js';
import { loadConfigFile, formatIssue, type ConfigIssue, type FleetConfig } from './fleet/config.js';
import { NodeRegistry } from './fleet/registry.js';
import { configResolver } from './fleet/snapshot-builder.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { xdsLogEvents } from './telemetry/xds-log.js';
import { combineEvents } from './xds/events.js';
import { NackLedger } from './xds/nack-ledger.js';
import { XdsServer } from './xds/server.js';

export interface DaemonOptions {
  readonly configFile: string;
  readonly xdsHost: string;
  readonly xdsPort: number;
  readonly apiHost: string;
  readonly apiPort: number;
  readonly stateDir: string;
  readonly logger: Logger;
}

export type ReloadResult =
  | { readonly result: 'applied' | 'unchanged'; readonly nodesChanged: number; readonly warnings: readonly ConfigIssue[] }
  | { readonly result: 'rejected'; readonly errors: readonly ConfigIssue[] };

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly errors: readonly ConfigIssue[],
  ) {
    super(`${source}: ${errors.length} error(s) in config:\n${errors.map((e) => `  ${formatIssue(source, e)}`).join('\n')}`);
  }
}

export class Daemon {
  #ready = false;
  #closing: Promise<void> | undefined;

  private constructor(
    private readonly options: DaemonOptions,
    private config: FleetConfig,
    readonly cache: SnapshotCache,
    readonly xds: XdsServer,
    readonly api: FastifyInstance,
    readonly metrics: Metrics,
    readonly nodes: NodeRegistry,
    readonly xdsPort: number,
    readonly apiPort: number,
  ) {}

  /** Loads the config, binds the xDS and API ports, and starts serving. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const { logger } = options;
    const loaded = await loadConfigFile(options.configFile);
    if (!loaded.ok) throw new ConfigError(options.configFile, loaded.errors);
    logWarnings(logger, options.configFile, loaded.config.warnings);
    await mkdir(options.stateDir, { recursive: true });

    const cache = new SnapshotCache(configResolver(loaded.config));
    const nodes = new NodeRegistry();
    const ledger = new NackLedger();
    const metrics = createMetrics(ledger);
    const xds = new XdsServer({
      watcher: cache,
      ledger,
      events: combineEvents(xdsLogEvents(logger.child({ component: 'xds' })), nodes.events, metrics.xdsEvents),
    });
    let daemon: Daemon | undefined;
    const api = buildApi({
      logger,
      metrics: metrics.registry,
      nodes,
      config: () => daemon!.config,
      ready: () => daemon?.ready ?? false,
    });
    const xdsPort = await xds.listen(options.xdsHost, options.xdsPort);
    await api.listen({ host: options.apiHost, port: options.apiPort });
    const address = api.server.address();
    const apiPort = typeof address === 'object' && address ? address.port : options.apiPort;
    daemon = new Daemon(options, loaded.config, cache, xds, api, metrics, nodes, xdsPort, apiPort);
    daemon.#ready = true;
    logger.info(
      { event: 'started', xdsPort, apiPort, config: options.configFile, groups: loaded.config.groups.length },
      `drainplane serving xDS on ${options.xdsHost}:${xdsPort} and the API on ${options.apiHost}:${apiPort}`,
    );
    return daemon;
  }

  /** True between start-up and the start of shutdown. */
  get ready(): boolean {
    return this.#ready;
  }

  get currentConfig(): FleetConfig {
    return this.config;
  }

  /**
   * Re-reads the config file. A config with errors is rejected whole and the running one
   * keeps serving; a valid one is pushed only to nodes whose resources changed.
   */
  async reload(): Promise<ReloadResult> {
    const { logger, configFile } = this.options;
    const loaded = await loadConfigFile(configFile);
    if (!loaded.ok) {
      this.metrics.configReloads.inc({ result: 'rejected' });
      logger.error(
        { event: 'reload_rejected', config: configFile, errors: loaded.errors.map((e) => formatIssue(configFile, e)) },
        'config rejected; the running config keeps serving',
      );
      return { result: 'rejected', errors: loaded.errors };
    }
    logWarnings(logger, configFile, loaded.config.warnings);
    const before = new Map(this.cache.nodes().map((n) => [n.id, this.cache.snapshot(n.id)]));
    this.config = loaded.config;
    this.cache.setResolver(configResolver(loaded.config));
    const nodesChanged = [...before].filter(([id, s]) => this.cache.snapshot(id) !== s).length;
    const result = nodesChanged === 0 ? 'unchanged' : 'applied';
    this.metrics.configReloads.inc({ result });
    logger.info({ event: 'reload', result, nodesChanged, config: configFile }, `config reloaded: ${nodesChanged} node(s) changed`);
    return { result, nodesChanged, warnings: loaded.config.warnings };
  }

  /** Graceful stop: readiness off, streams ended, ports closed. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ready = false;
      this.options.logger.info({ event: 'stopping' }, 'drainplane stopping');
      await this.xds.close();
      await this.api.close();
      this.options.logger.info({ event: 'stopped' }, 'drainplane stopped');
    })();
    return this.#closing;
  }
}

function logWarnings(logger: Logger, source: string, warnings: readonly ConfigIssue[]): void {
  for (const w of warnings) logger.warn({ event: 'config_warning', path: w.path }, formatIssue(source, w));
}
