/**
 * The composition root: the one place that wires the concrete parts together.
 */
import { readFile } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi, buildProbeApi } from './api/app.js';
import type { ReadinessCheck } from './api/routes/health.js';
import { ApiTokens, type TokenSources } from './api/token-store.js';
import { SnapshotCache } from './cache/snapshot-cache.js';
import { formatIssue, parseConfig, type ConfigIssue, type FleetConfig } from './fleet/config.js';
import { FleetAdmin } from './admin/fleet-admin.js';
import { GaugePoller } from './admin/gauge-poller.js';
import { DrainManager } from './fleet/drain/manager.js';
import type { Drain } from './fleet/drain/model.js';
import type { PrestopResult } from './fleet/drain/prestop-result.js';
import { ConnectionGauges } from './metrics/connection-gauges.js';
import { handleStreamMetrics, metricsServiceDefinition, STREAM_METRICS_METHOD } from './metrics/metrics-service.js';
import { removeStaleTempFiles } from './fs/atomic-write.js';
import { ConfigService, logConfigWarnings } from './fleet/config-service.js';
import { startingConfig } from './fleet/config-start.js';
import { NodeRegistry } from './fleet/registry.js';
import { FleetView } from './fleet/replication/fleet-view.js';
import { NodeStatusPublisher } from './fleet/replication/node-publisher.js';
import { replicate } from './fleet/replication/replicate.js';
import { openStateStore, type StoreOptions } from './store/open-store.js';
import type { StateStore } from './fleet/ports/state-store.js';
import { configResolver } from './fleet/snapshot-builder.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { followCertificate, type CertificateFiles } from './tls/certificate-files.js';
import { grpcServerCredentials } from './tls/grpc-credentials.js';
import { metricsSinkLog, xdsLogEvents } from './telemetry/xds-log.js';
import type { NodeAuthorizer } from './xds/discovery-stream.js';
import { combineEvents } from './xds/events.js';
import { NackLedger } from './xds/nack-ledger.js';
import { XdsServer, type XdsLimits } from './xds/server.js';

export type { ReloadResult } from './fleet/config-service.js';

export interface DaemonOptions {
  readonly configFile: string;
  readonly xdsHost: string;
  readonly xdsPort: number;
  readonly apiHost: string;
  readonly apiPort: number;
  readonly stateDir: string;
  readonly logger: Logger;
  /** The API's bearer tokens (read and admin scopes); none means no check. */
  readonly apiTokens?: TokenSources;
  /** Mutating API requests per minute per caller (default 30); 0 turns the limit off. */
  readonly apiRateLimit?: number;
  /** Bytes an API request body may have (default 4 MiB). */
  readonly apiBodyLimit?: number;
  /** Bounds on xDS messages, streams per connection and bytes queued per stream. */
  readonly xdsLimits?: Partial<XdsLimits>;
  /** Reload when the config file changes on disk (default true). */
  readonly watchConfig?: boolean;
  /** Port of a listener serving only /healthz and /readyz, for kubelet probes. */
  readonly probePort?: number;
  /** Address the probe port binds (default 0.0.0.0: the kubelet probes the pod's IP). */
  readonly probeHost?: string;
  /** Admin address of the local Envoy (`drainplane run`), for nodes that announce none. */
  readonly localAdminAddress?: string;
  /** How often a draining node's admin /stats is read (default 1000 ms). */
  readonly gaugePollMs?: number;
  /** How often drains are evaluated (default 250 ms). */
  readonly drainTickMs?: number;
  /** Where state is kept and shared (default: files in `stateDir`). */
  readonly store?: StoreOptions;
  /** Serve the API over HTTPS; reloaded when the files change. */
  readonly apiTls?: CertificateFiles;
  /** Serve xDS over TLS (mutual TLS when the files include a CA); reloaded when the files change. */
  readonly xdsTls?: CertificateFiles;
  /** Which client certificate may speak for which node (with mutual TLS). */
  readonly authorizeNode?: NodeAuthorizer;
  /**
   * Stored drains to keep only as history from the start, before any node is served
   * (`drainplane run`: the drains of its earlier shutdowns, whose Envoy is gone).
   */
  readonly retireOnStart?: { readonly which: (drain: Drain) => boolean; readonly reason: string };
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly errors: readonly ConfigIssue[],
  ) {
    super(`${errors.length} error(s) in config:\n${errors.map((e) => `  ${formatIssue(source, e)}`).join('\n')}`);
  }
}

export class Daemon {
  #ready = false;
  #closing: Promise<void> | undefined;
  #unwatch: () => void = () => {};
  #readinessCheck: ReadinessCheck | undefined;
  #prestop: (() => Promise<PrestopResult>) | undefined;
  #stopBackground: () => void = () => {};
  #tokens: ApiTokens | undefined;

  private constructor(
    private readonly options: DaemonOptions,
    readonly config: ConfigService,
    readonly cache: SnapshotCache,
    readonly xds: XdsServer,
    readonly api: FastifyInstance,
    readonly nodes: NodeRegistry,
    readonly drains: DrainManager,
    readonly store: StateStore,
    readonly metrics: Metrics,
    readonly xdsPort: number,
    readonly apiPort: number,
  ) {}

  /** Loads the config, binds the xDS and API ports, and starts serving. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const { logger, configFile } = options;
    const text = await readFile(configFile, 'utf8').catch((err: Error) => {
      throw new ConfigError(configFile, [{ path: '', message: `cannot read ${configFile}: ${err.message}` }]);
    });
    const loaded = parseConfig(text, configFile);
    if (!loaded.ok) throw new ConfigError(configFile, loaded.errors);
    logConfigWarnings(logger, configFile, loaded.config.warnings);
    // PUT /v1/config writes the file atomically: a crash mid-write leaves a temporary file beside it.
    await removeStaleTempFiles(configFile);
    const tokens = options.apiTokens ? await ApiTokens.load(options.apiTokens, logger.child({ component: 'api' })) : undefined;
    const store = await openStateStore(options.store ?? { url: `file://${options.stateDir}` }, logger);
    const starting = await startingConfig(store.config, { file: configFile, text, config: loaded.config }, logger).catch(
      async (err: unknown) => {
        await store.close();
        throw err;
      },
    );
    if ('errors' in starting) {
      await store.close();
      throw new ConfigError(starting.source, starting.errors);
    }

    const nodes = new NodeRegistry();
    const ledger = new NackLedger();
    const gauges = new ConnectionGauges();
    let config: ConfigService | undefined;
    // Nothing is resolved until the stored drains are loaded below.
    const cache = new SnapshotCache(() => undefined);
    const admin = new FleetAdmin(() => config!.current.envoyAdmin, options.localAdminAddress);
    // With replicas, drains see the whole fleet: nodes here and nodes other replicas published.
    const fleet = store.kind === 'file' ? undefined : new FleetView(store.replica, nodes, gauges, store.nodes);
    const drains = new DrainManager({
      store: store.drains,
      nodes,
      cache,
      config: () => config!.current,
      connections: fleet ?? gauges,
      admin,
      logger: logger.child({ component: 'drains' }),
      ...(options.drainTickMs !== undefined && { tickMs: options.drainTickMs }),
      ...(fleet && { fleet, remote: fleet, leading: () => store.leadership.isLeader(), saveProgress: true }),
    });
    // Alone (the file store), there is no one to publish to: no per-node records are kept.
    const publisher = fleet && new NodeStatusPublisher({
      store: store.nodes,
      replica: store.replica,
      registry: nodes,
      cache,
      gauges,
      drains,
      logger: logger.child({ component: 'replication' }),
    });
    const poller = new GaugePoller({
      admin,
      gauges,
      nodes: () => drains.activeNodes(),
      logger,
      ...(options.gaugePollMs !== undefined && { intervalMs: options.gaugePollMs }),
    });
    const resolve = (c: FleetConfig) => drains.resolver(configResolver(c));
    const metrics = createMetrics(ledger, drains);
    config = new ConfigService({
      file: configFile,
      cache,
      logger,
      initial: { ...starting, fileText: text },
      store: store.config,
      resolver: resolve,
      onResult: (result) => metrics.configReloads.inc({ result }),
    });
    // Changes other replicas store from now on are applied here; then the stored state is read.
    const stopReplication = replicate({ store, drains, config, publisher, logger: logger.child({ component: 'replication' }) });
    // Stored drains are in place before the first node is served its listeners.
    await drains.load();
    if (options.retireOnStart) await drains.retire(options.retireOnStart.which, options.retireOnStart.reason);
    await config.catchUp();
    cache.setResolver(resolve(config.current));
    const xds = new XdsServer({
      watcher: cache,
      ledger,
      events: combineEvents(
        // Joining running drains comes first, so a node's first response already carries them.
        { streamOpened: (s) => drains.nodeConnected(s.node) },
        xdsLogEvents(logger.child({ component: 'xds' })),
        nodes.events,
        publisher?.events ?? {},
        metrics.xdsEvents,
      ),
      extraServices: [
        {
          definition: metricsServiceDefinition(),
          implementation: {
            [STREAM_METRICS_METHOD]: handleStreamMetrics(gauges, metricsSinkLog(logger), options.authorizeNode),
          },
        },
      ],
      ...(options.xdsLimits !== undefined && { limits: options.xdsLimits }),
      ...(options.authorizeNode && { authorizeNode: options.authorizeNode }),
    });
    let daemon: Daemon | undefined;
    const readiness = (): Promise<string | null> => (daemon ? daemon.#readiness() : Promise.resolve('starting'));
    const api = buildApi({
      logger,
      metrics: metrics.registry,
      nodes: fleet ?? nodes,
      config,
      drains,
      readiness,
      store,
      prestop: () => (daemon ? daemon.#runPrestop() : Promise.resolve({ outcome: 'not-supervising', elapsedSeconds: 0 })),
      ...(tokens !== undefined && { tokens: () => tokens.current }),
      ...(options.apiRateLimit !== undefined && { mutationsPerMinute: options.apiRateLimit }),
      ...(options.apiBodyLimit !== undefined && { bodyLimit: options.apiBodyLimit }),
      ...(options.apiTls && { https: options.apiTls.current }),
    });
    const xdsCredentials = options.xdsTls && grpcServerCredentials(options.xdsTls);
    const xdsPort = await xds.listen(options.xdsHost, options.xdsPort, xdsCredentials);
    await api.listen({ host: options.apiHost, port: options.apiPort });
    // buildApi made an HTTPS server when given a certificate; fastify's type says HTTP.
    const stopTls = [
      ...(options.apiTls ? [options.apiTls.watch(), followCertificate(options.apiTls, api.server as unknown as HttpsServer)] : []),
      ...(options.xdsTls ? [options.xdsTls.watch()] : []),
    ];
    const probes = options.probePort ? buildProbeApi(logger, readiness) : undefined;
    await probes?.listen({ host: options.probeHost ?? '0.0.0.0', port: options.probePort! });
    const address = api.server.address();
    const apiPort = typeof address === 'object' && address ? address.port : options.apiPort;
    daemon = new Daemon(options, config, cache, xds, api, nodes, drains, store, metrics, xdsPort, apiPort);
    daemon.#tokens = tokens;
    if (options.watchConfig !== false) daemon.#unwatch = config.watch();
    // Always watched: a rotated or revoked token must take effect, --no-watch or not.
    const unwatchTokens = tokens?.watch();
    drains.start();
    poller.start();
    daemon.#stopBackground = () => {
      unwatchTokens?.();
      for (const stop of stopTls) stop();
      poller.stop();
      stopReplication();
      admin.close();
      void probes?.close();
    };
    daemon.#ready = true;
    logger.info(
      {
        event: 'started',
        xdsPort,
        apiPort,
        config: configFile,
        groups: config.current.groups.length,
        apiAuth: tokens ? 'bearer tokens' : 'none',
        store: store.location,
        replica: store.replica,
      },
      `drainplane serving xDS on ${options.xdsHost}:${xdsPort} and the API on ${options.apiHost}:${apiPort}`,
    );
    return daemon;
  }

  /** True between start-up and the start of shutdown. */
  get ready(): boolean {
    return this.#ready;
  }

  /** An extra readiness condition (`drainplane run`: the local Envoy is synced and LIVE). */
  setReadinessCheck(check: ReadinessCheck): void {
    this.#readinessCheck = check;
  }

  /** What GET /v1/prestop runs (`drainplane run`). */
  setPrestop(prestop: () => Promise<PrestopResult>): void {
    this.#prestop = prestop;
  }

  async #readiness(): Promise<string | null> {
    if (!this.#ready) return 'shutting down';
    return this.#readinessCheck ? this.#readinessCheck() : null;
  }

  #runPrestop(): Promise<PrestopResult> {
    return this.#prestop ? this.#prestop() : Promise.resolve({ outcome: 'not-supervising', elapsedSeconds: 0 });
  }

  /** Readiness turns 503 now: the pod is going away. */
  markShuttingDown(): void {
    this.#ready = false;
  }

  /** Re-reads the config file and the API tokens file (SIGHUP). */
  reload(): ReturnType<ConfigService['reload']> {
    void this.#tokens?.reload();
    return this.config.reload('signal');
  }

  /** Graceful stop: readiness off, streams ended, ports closed. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ready = false;
      this.#unwatch();
      this.drains.stop();
      this.#stopBackground();
      this.options.logger.info({ event: 'stopping' }, 'drainplane stopping');
      await this.xds.close();
      await this.api.close();
      // Last: leadership passes on now rather than when its lease runs out.
      await this.store.close();
      this.options.logger.info({ event: 'stopped' }, 'drainplane stopped');
    })();
    return this.#closing;
  }
}
