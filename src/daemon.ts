/**
 * The composition root: the one place that wires the concrete parts together.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi, buildProbeApi } from './api/app.js';
import type { ReadinessCheck } from './api/routes/health.js';
import { ApiTokens, type TokenSources } from './api/token-store.js';
import { SnapshotCache } from './cache/snapshot-cache.js';
import { formatIssue, parseConfig, type ConfigIssue } from './fleet/config.js';
import { DesiredState } from './fleet/desired-state/desired-state.js';
import { ServiceAssignments } from './fleet/service-endpoints/service-assignments.js';
import { KubernetesEndpoints } from './kube/service-endpoints-source.js';
import { FleetPodsFollower } from './kube/fleet-pods.js';
import { drainDeletedPod } from './fleet/drain/pod-deletion.js';
import { FleetAdmin } from './admin/fleet-admin.js';
import { AdminPoller } from './admin/admin-poller.js';
import { HostCountStore } from './admin/host-count-store.js';
import { DrainManager } from './fleet/drain/manager.js';
import type { Retention } from './fleet/drain/retention.js';
import type { Drain } from './fleet/drain/model.js';
import type { PrestopResult } from './fleet/drain/prestop-result.js';
import { ConnectionGauges } from './gauges/connection-gauges.js';
import { NodeConnectionHistory } from './gauges/node-connection-history.js';
import { handleStreamMetrics, metricsServiceDefinition, STREAM_METRICS_METHOD } from './metrics/metrics-service.js';
import { handleLoadReports, loadReportingServiceDefinition, loadReportRefusal, STREAM_LOAD_STATS_METHOD } from './metrics/load-reports.js';
import { removeStaleTempFiles } from './fs/atomic-write.js';
import { ConfigService, logConfigWarnings } from './fleet/config-service.js';
import { startingConfig } from './fleet/config-start.js';
import { secretFilesBeside, type SecretFiles } from './fleet/secrets/secret-files.js';
import { SharedSecretFiles } from './fleet/secrets/shared-secret-files.js';
import { TypeUrl } from './resource/type-urls.js';
import { NodeRegistry } from './fleet/registry.js';
import { FleetView } from './fleet/replication/fleet-view.js';
import { NodeStatusPublisher } from './fleet/replication/node-publisher.js';
import { replicate } from './fleet/replication/replicate.js';
import { openStateStore, type StoreOptions } from './store/open-store.js';
import type { StateStore } from './fleet/ports/state-store.js';
import type { StartingConfig } from './fleet/config-start.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { followCertificate, type CertificateFiles } from './tls/certificate-files.js';
import { grpcServerCredentials } from './tls/grpc-credentials.js';
import { loadReportLog, metricsSinkLog, xdsLogEvents } from './telemetry/xds-log.js';
import type { NodeAuthorizer } from './xds/discovery-stream.js';
import { combineEvents } from './xds/events.js';
import { NackLedger } from './xds/nack-ledger.js';
import { DEFAULT_XDS_LIMITS, XdsServer, type XdsLimits } from './xds/server.js';

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
  /** Host names the API answers to besides loopback and apiHost (see api/allowed-hosts.ts). */
  readonly apiAllowedHosts?: readonly string[];
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
  /** How often the admin /clusters of a node in an endpoint drain is read (default 1000 ms). */
  readonly hostPollMs?: number;
  /** How often drains are evaluated (default 250 ms). */
  readonly drainTickMs?: number;
  /** How long start-up waits for the first listing of the Kubernetes Services the config names. */
  readonly kubeListTimeoutMs?: number;
  /** How much drain history is kept (default DEFAULT_RETENTION). */
  readonly drainRetention?: Retention;
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

/** A port the daemon could not bind (in use, or an address this host does not have). */
export class ListenError extends Error {
  constructor(
    readonly port: 'xds' | 'api' | 'probe',
    readonly address: string,
    cause: Error,
  ) {
    super(`cannot listen on ${address}: ${cause.message}`, { cause });
  }
}

/** Runs a bind, naming the port and address when it fails. */
async function binding<T>(port: ListenError['port'], host: string, portNumber: number, bind: () => Promise<T>): Promise<T> {
  try {
    return await bind();
  } catch (err) {
    throw new ListenError(port, host.includes(':') ? `[${host}]:${portNumber}` : `${host}:${portNumber}`, err as Error);
  }
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly errors: readonly ConfigIssue[],
  ) {
    super(`${errors.length} error(s) in config:\n${errors.map((e) => `  ${formatIssue(source, e)}`).join('\n')}`);
  }
}

/** What `drainplane run` adds to the API: its Envoy's readiness, and the preStop drain. */
export interface LocalEnvoyHooks {
  /** Why the local Envoy is not ready, or null. */
  readonly readiness: ReadinessCheck;
  readonly prestop: () => Promise<PrestopResult>;
}

/** The parts `create` builds, in the order it builds them. */
interface DaemonParts {
  readonly store: StateStore;
  readonly cache: SnapshotCache;
  readonly desired: DesiredState;
  readonly admin: FleetAdmin;
  readonly nodes: NodeRegistry;
  readonly fleet: FleetView | undefined;
  readonly gauges: ConnectionGauges;
  readonly drains: DrainManager;
  /** Admin reads of draining nodes: their /stats, and for endpoint drains their /clusters. */
  readonly pollers: readonly AdminPoller[];
  readonly metrics: Metrics;
  readonly config: ConfigService;
  readonly xds: XdsServer;
  readonly tokens: ApiTokens | undefined;
  readonly stopReplication: () => void;
  /** Watches of the Kubernetes Services whose endpoints groups serve. */
  readonly kube: KubernetesEndpoints;
}

interface Listening {
  readonly xdsPort: number;
  readonly apiPort: number;
}

export class Daemon {
  #ready = false;
  #listening: Listening | undefined;
  /** The API and probe servers, once built (closed after the xDS server). */
  readonly #http: FastifyInstance[] = [];
  #closing: Promise<void> | undefined;
  #stops: (() => void)[] = [];

  private constructor(
    private readonly options: DaemonOptions,
    private readonly parts: DaemonParts,
  ) {}

  get config(): ConfigService {
    return this.parts.config;
  }
  /** What every node should have now (the one writer of the snapshot cache). */
  get desired(): DesiredState {
    return this.parts.desired;
  }
  /** The snapshots the xDS streams send, by node. */
  get cache(): SnapshotCache {
    return this.parts.cache;
  }
  get xds(): XdsServer {
    return this.parts.xds;
  }
  get nodes(): NodeRegistry {
    return this.parts.nodes;
  }
  get drains(): DrainManager {
    return this.parts.drains;
  }
  get store(): StateStore {
    return this.parts.store;
  }
  get metrics(): Metrics {
    return this.parts.metrics;
  }
  get api(): FastifyInstance {
    const api = this.#http[0];
    if (!api) throw new Error('the daemon is not listening yet');
    return api;
  }
  get xdsPort(): number {
    return this.#bound().xdsPort;
  }
  get apiPort(): number {
    return this.#bound().apiPort;
  }

  /** Loads the config, binds the xDS and API ports, and starts serving. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const daemon = await Daemon.create(options);
    await daemon.listen();
    return daemon;
  }

  /**
   * Builds every part, in dependency order, from the config and the stored state: stored drains
   * are in place (and the latest stored config running) before anything listens.
   */
  static async create(options: DaemonOptions): Promise<Daemon> {
    const state = await openState(options);
    try {
      return await Daemon.#compose(options, state);
    } catch (err) {
      // Nothing stays open: a stored state that cannot be read is a start-up error, not a hang.
      await state.store.close();
      throw err;
    }
  }

  static async #compose(options: DaemonOptions, { store, starting, text, tokens, secretFiles }: OpenedState): Promise<Daemon> {
    const { logger } = options;
    const cache = new SnapshotCache();
    const services = new ServiceAssignments();
    const desired = new DesiredState({ cache, config: starting.config, services });
    const admin = new FleetAdmin({ settings: () => desired.config.envoyAdmin, localAddress: options.localAdminAddress });
    const xdsLimits = { ...DEFAULT_XDS_LIMITS, ...options.xdsLimits };
    const nodes = new NodeRegistry(xdsLimits);
    const gauges = new ConnectionGauges();
    const hosts = new HostCountStore();
    // With replicas, drains see the whole fleet: nodes here and nodes other replicas published.
    const fleet = store.nodes && new FleetView({ replica: store.replica, local: nodes, gauges, hosts, shared: store.nodes });
    const drains = new DrainManager({
      store: store.drains,
      nodes,
      desired,
      connections: fleet ?? gauges,
      hosts: fleet?.hosts ?? hosts,
      admin,
      logger: logger.child({ component: 'drains' }),
      ...(options.drainTickMs !== undefined && { tickMs: options.drainTickMs }),
      ...(options.drainRetention !== undefined && { retention: options.drainRetention }),
      ...(fleet && { fleet, remote: fleet, leading: () => store.leadership.isLeader(), saveProgress: true }),
    });
    const pollers = [
      new AdminPoller({
        admin,
        what: '/stats',
        poll: (node) => admin.poll(node, gauges),
        nodes: () => drains.activeNodes('listeners'),
        logger,
        ...(options.gaugePollMs !== undefined && { intervalMs: options.gaugePollMs }),
      }),
      new AdminPoller({
        admin,
        what: '/clusters',
        poll: (node) => admin.pollHosts(node, hosts),
        nodes: () => drains.activeNodes('endpoints'),
        logger,
        ...(options.hostPollMs !== undefined && { intervalMs: options.hostPollMs }),
      }),
    ];
    const ledger = new NackLedger(xdsLimits);
    const metrics = createMetrics({ ledger, drains });
    const kube = new KubernetesEndpoints({
      services,
      desired,
      configDir: path.dirname(options.configFile),
      logger: logger.child({ component: 'kubernetes' }),
      onRestart: () => metrics.kubeWatchRestarts.inc(),
    });
    const config = new ConfigService({
      file: options.configFile,
      desired,
      logger,
      initial: { text: starting.text, fileText: text, ...(starting.version !== undefined && { version: starting.version }) },
      store: store.config,
      onResult: (result) => metrics.configReloads.inc({ result }),
      secretFiles,
    });
    // Alone (the file store), there is no one to publish to: no per-node records are kept.
    const publisher =
      store.nodes &&
      new NodeStatusPublisher({
        store: store.nodes,
        replica: store.replica,
        registry: nodes,
        desired,
        gauges,
        hosts,
        drains,
        logger: logger.child({ component: 'replication' }),
      });
    // Changes other replicas store from now on are applied here; then the stored state is read.
    const stopReplication = replicate({ store, drains, config, publisher, logger: logger.child({ component: 'replication' }) });
    try {
      // Stored drains are in place before the first node is served its listeners.
      await drains.load();
      if (options.retireOnStart) await drains.retire(options.retireOnStart.which, options.retireOnStart.reason);
      await config.catchUp();
    } catch (err) {
      stopReplication();
      throw err;
    }
    const xds = new XdsServer({
      watcher: cache,
      ledger,
      events: combineEvents(
        // Joining running drains comes first, then the node's snapshot: its first response carries them.
        { streamOpened: (s) => drains.nodeConnected(s.node) },
        desired.events,
        xdsLogEvents(logger.child({ component: 'xds' }), xdsLimits),
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
        {
          definition: loadReportingServiceDefinition(),
          implementation: {
            [STREAM_LOAD_STATS_METHOD]: handleLoadReports(
              {
                // Any replica's: an Envoy's load reports may reach another replica than its ADS stream.
                refusal: (id) => loadReportRefusal((fleet ?? nodes).get(id)),
                record: (id, report, at) => hosts.record(id, { countsConnections: false, hosts: report.hosts, addresses: report.addresses }, at),
                now: () => hosts.now(),
              },
              loadReportLog(logger),
              options.authorizeNode,
            ),
          },
        },
      ],
      limits: xdsLimits,
      ...(options.authorizeNode && { authorizeNode: options.authorizeNode }),
    });
    return new Daemon(options, {
      store,
      cache,
      desired,
      admin,
      nodes,
      fleet,
      gauges,
      drains,
      pollers,
      metrics,
      config,
      xds,
      tokens,
      stopReplication,
      kube,
    });
  }

  /**
   * Binds the xDS, API (and probe) ports and starts the background work. `local`: the hooks of
   * `drainplane run`, whose supervisor is built on the created daemon. If a port cannot be
   * bound, the daemon is closed (nothing left half-started) and the error goes on.
   */
  async listen(local?: LocalEnvoyHooks): Promise<void> {
    try {
      await this.#listen(local);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async #listen(local: LocalEnvoyHooks | undefined): Promise<void> {
    const { options, parts } = this;
    const { logger } = options;
    const readiness = (): Promise<string | null> => this.#readiness(local);
    // Each node's connections over time, for the console's node page: kept whether or not anyone looks.
    const history = new NodeConnectionHistory();
    this.#stops.push(parts.gauges.onReport((report) => history.record(report)));
    const api = buildApi({
      connections: { latest: parts.fleet ?? parts.gauges, history },
      logger,
      metrics: parts.metrics.registry,
      nodes: parts.fleet ?? parts.nodes,
      config: parts.config,
      desired: parts.desired,
      drains: parts.drains,
      readiness,
      store: parts.store,
      prestop: local?.prestop ?? (() => Promise.resolve({ outcome: 'not-supervising', elapsedSeconds: 0 })),
      ...(parts.tokens !== undefined && { tokens: () => parts.tokens!.current }),
      ...(options.apiRateLimit !== undefined && { mutationsPerMinute: options.apiRateLimit }),
      ...(options.apiBodyLimit !== undefined && { bodyLimit: options.apiBodyLimit }),
      apiHost: options.apiHost,
      ...(options.apiAllowedHosts !== undefined && { allowedHosts: options.apiAllowedHosts }),
      ...(options.apiTls && { https: options.apiTls.current }),
    });
    this.#http.push(api);
    await this.#listServices();
    const xdsCredentials = options.xdsTls && grpcServerCredentials(options.xdsTls);
    const xdsPort = await binding('xds', options.xdsHost, options.xdsPort, () => parts.xds.listen(options.xdsHost, options.xdsPort, xdsCredentials));
    await binding('api', options.apiHost, options.apiPort, () => api.listen({ host: options.apiHost, port: options.apiPort }));
    const address = api.server.address();
    const apiPort = typeof address === 'object' && address ? address.port : options.apiPort;
    this.#listening = { xdsPort, apiPort };
    if (options.probePort) {
      const probes = buildProbeApi(logger, readiness);
      this.#http.push(probes);
      const host = options.probeHost ?? '0.0.0.0';
      await binding('probe', host, options.probePort, () => probes.listen({ host, port: options.probePort! }));
    }
    this.#startBackground(api);
    this.#ready = true;
    logger.info(
      {
        event: 'started',
        xdsPort,
        apiPort,
        config: options.configFile,
        groups: parts.config.current.groups.length,
        apiAuth: parts.tokens ? 'bearer tokens' : 'none',
        store: parts.store.location,
        replica: parts.store.replica,
      },
      `drainplane serving xDS on ${options.xdsHost}:${xdsPort} and the API on ${options.apiHost}:${apiPort}`,
    );
    const secrets = parts.config.current.groups.reduce((n, g) => n + (g.resources.get(TypeUrl.Secret)?.length ?? 0), 0);
    if (secrets > 0 && options.xdsTls?.files.ca === undefined) {
      // A Secret goes to any client that names a node of its group: without client
      // certificates, that is anyone who can reach the xDS port.
      logger.warn(
        { event: 'secrets_without_client_auth', secrets },
        `serving ${secrets} secret(s) over SDS without client certificates; require them (--xds-tls-ca, --xds-node-identity) so that only your Envoys get private keys`,
      );
    }
  }

  /**
   * Starts the watches of the Services the config names, and waits (a bounded time) for their
   * first listing before any node is served: a node that reconnects then gets the endpoints as
   * they are, not an assignment that is still pending.
   */
  async #listServices(): Promise<void> {
    const { options, parts } = this;
    parts.kube.follow(parts.config.current);
    this.#stops.push(
      parts.config.onInstalled((config) => parts.kube.follow(config)),
      () => parts.kube.stop(),
    );
    const unlisted = await parts.kube.listed(options.kubeListTimeoutMs ?? 30_000);
    if (unlisted.length > 0) {
      options.logger.warn(
        { event: 'kube_not_listed', services: unlisted },
        `serving before these Services could be listed: ${unlisted.join(', ')}; their assignments are sent once they are (nodes keep what they hold until then)`,
      );
    }
  }

  /** Watches (config, tokens, certificates), drain evaluation and gauge reading. */
  #startBackground(api: FastifyInstance): void {
    const { options, parts } = this;
    if (options.watchConfig !== false) this.#stops.push(parts.config.watch());
    // Always watched: a rotated or revoked token must take effect, --no-watch or not.
    if (parts.tokens) this.#stops.push(parts.tokens.watch());
    // Always watched too: certificates served over SDS rotate without a config change.
    this.#stops.push(parts.config.watchSecrets());
    // buildApi made an HTTPS server when given a certificate; fastify's type says HTTP.
    if (options.apiTls) this.#stops.push(options.apiTls.watch(), followCertificate(options.apiTls, api.server as unknown as HttpsServer));
    if (options.xdsTls) this.#stops.push(options.xdsTls.watch());
    parts.drains.start();
    this.#followFleetPods();
    for (const poller of parts.pollers) poller.start();
    this.#stops.push(
      () => parts.drains.stop(),
      () => parts.pollers.forEach((p) => p.stop()),
    );
  }

  /** The fleet's pods (`kubernetes.fleetPods`): one marked for deletion has its node drained at once, by the leader. */
  #followFleetPods(): void {
    const { options, parts } = this;
    const fleetPods = new FleetPodsFollower({
      configDir: path.dirname(options.configFile),
      logger: options.logger.child({ component: 'kubernetes' }),
      onRestart: () => parts.metrics.kubeWatchRestarts.inc(),
      onDeleting: (pod, settings, deletedAt) => {
        const logger = options.logger.child({ component: 'drains' });
        return drainDeletedPod(
          { drains: parts.drains, leading: () => parts.store.leadership.isLeader(), logger },
          pod,
          settings.deadlineSeconds,
          deletedAt,
        ).then(
          (outcome) => outcome !== 'not-leading',
          (err: unknown) => {
            // Not stored: asked again at the pod's next change; the preStop hook can still start it.
            logger.error({ event: 'pod_deleted_drain_failed', node: pod, error: (err as Error).message }, `drain of deleted pod ${pod} failed`);
            return false;
          },
        );
      },
    });
    fleetPods.follow(parts.config.current.kubernetes);
    this.#stops.push(
      parts.config.onInstalled((config) => fleetPods.follow(config.kubernetes)),
      () => fleetPods.stop(),
    );
  }

  /** True between start-up and the start of shutdown. */
  get ready(): boolean {
    return this.#ready;
  }

  async #readiness(local: LocalEnvoyHooks | undefined): Promise<string | null> {
    if (!this.#listening) return 'starting';
    if (!this.#ready) return 'shutting down';
    return local ? local.readiness() : null;
  }

  /** Readiness turns 503 now: the pod is going away. */
  markShuttingDown(): void {
    this.#ready = false;
  }

  /** Re-reads the config file and the API tokens file (SIGHUP). */
  reload(): ReturnType<ConfigService['reload']> {
    void this.parts.tokens?.reload();
    return this.parts.config.reload('signal');
  }

  /** Graceful stop: readiness off, streams ended, ports closed. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const { parts, options } = this;
      this.#ready = false;
      for (const stop of this.#stops.splice(0).reverse()) stop();
      parts.stopReplication();
      parts.admin.close();
      options.logger.info({ event: 'stopping' }, 'drainplane stopping');
      await parts.xds.close();
      for (const server of this.#http) await server.close();
      // Nothing changes drains now: what a failed write left on disk is put back as memory holds it.
      await parts.drains.close();
      // Last: leadership passes on now rather than when its lease runs out.
      await parts.store.close();
      options.logger.info({ event: 'stopped' }, 'drainplane stopped');
    })();
    return this.#closing;
  }

  #bound(): Listening {
    if (!this.#listening) throw new Error('the daemon is not listening yet');
    return this.#listening;
  }
}

/**
 * Reads and checks the config file, the API tokens, and opens the state store with the config
 * to start from (the file's, or a shared store's newer one). Nothing is left open on failure.
 */
interface OpenedState {
  readonly store: StateStore;
  readonly starting: StartingConfig;
  /** The config file's text. */
  readonly text: string;
  readonly tokens: ApiTokens | undefined;
  /** Where secret files are read: this machine, or through the replicas' shared store. */
  readonly secretFiles: SecretFiles;
}

async function openState(options: DaemonOptions): Promise<OpenedState> {
  const { logger, configFile } = options;
  const text = await readFile(configFile, 'utf8').catch((err: Error) => {
    throw new ConfigError(configFile, [{ path: '', message: `cannot read ${configFile}: ${err.message}` }]);
  });
  // PUT /v1/config writes the file atomically: a crash mid-write leaves a temporary file beside it.
  await removeStaleTempFiles(configFile);
  const tokens = options.apiTokens ? await ApiTokens.load(options.apiTokens, logger.child({ component: 'api' })) : undefined;
  const store = await openStateStore(options.store ?? { url: `file://${options.stateDir}` }, logger);
  let secretFiles: SecretFiles = secretFilesBeside(configFile);
  try {
    // Opened before the config is read: with replicas, its secret files may come from them.
    if (store.secretFiles) secretFiles = await SharedSecretFiles.open(secretFiles, store.secretFiles, logger.child({ component: 'store' }));
    const loaded = parseConfig(text, configFile, secretFiles);
    if (!loaded.ok) throw new ConfigError(configFile, loaded.errors);
    logConfigWarnings(logger, configFile, loaded.config.warnings);
    const starting = await startingConfig(store.config, { file: configFile, text, config: loaded.config }, logger, secretFiles);
    if ('errors' in starting) throw new ConfigError(starting.source, starting.errors);
    if (secretFiles instanceof SharedSecretFiles) await secretFiles.publish();
    return { store, starting, text, tokens, secretFiles };
  } catch (err) {
    if (secretFiles instanceof SharedSecretFiles) secretFiles.close();
    await store.close();
    throw err;
  }
}
