import type { ConnectionSource } from '../fleet/drain/ports.js';
import type { NodeConnectionHistory } from '../gauges/node-connection-history.js';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ConfigService } from '../fleet/config-service.js';
import type { DesiredState } from '../fleet/desired-state/desired-state.js';
import type { DrainManager } from '../fleet/drain/manager.js';
import type { NodeDirectory } from '../fleet/drain/ports.js';
import { ConnectionHistory } from '../fleet/drain/connection-history.js';
import { FleetRead } from '../fleet/fleet-read.js';
import type { PrestopResult } from '../fleet/drain/prestop-result.js';
import type { NodeRegistry } from '../fleet/registry.js';
import { buildInfo, type BuildInfo } from '../resource/envoy-api.js';
import { requireAllowedHost } from './allowed-hosts.js';
import { requireTokens } from './auth.js';
import { requireBodyType } from './body-types.js';
import { parseJsonBodies } from './json-body.js';
import { refuseWhileStoreUnavailable } from './store-gate.js';
import { errorHandler } from './errors.js';
import { DEFAULT_MUTATIONS_PER_MINUTE, mutationRateLimit } from './rate-limit.js';
import { FleetFeed } from './fleet-feed.js';
import { configRoutes } from './routes/config.js';
import { drainRoutes } from './routes/drains.js';
import { fleetRoutes } from './routes/fleet.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { infoRoutes } from './routes/info.js';
import { prestopRoutes } from './routes/prestop.js';
import { metricsRoutes } from './routes/metrics.js';
import { nodeRoutes } from './routes/nodes.js';
import { storeRoutes, type StoreView } from './routes/store.js';
import type { TokenSet } from './tokens.js';

export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
import { uiRoutes } from './routes/ui.js';

/** What the HTTP API reads; the composition root supplies it. */
export interface ApiDeps {
  readonly logger: Logger;
  readonly metrics: Registry;
  /** Every node this replica knows of (with replicas, the whole fleet). */
  readonly nodes: NodeDirectory & Pick<NodeRegistry, 'onChange'>;
  readonly config: ConfigService;
  readonly desired: DesiredState;
  readonly drains: DrainManager;
  /** Why the daemon is not ready (starting, shutting down, its Envoy not synced), or null. */
  readonly readiness: ReadinessCheck;
  /** The local drain of `drainplane run`, for preStop hooks. */
  readonly prestop: () => Promise<PrestopResult>;
  /** The state store: GET /v1/store shows it; changes are refused while it is unreachable. */
  readonly store?: StoreView;
  /** The bearer tokens in force (read on every request, so they can rotate); none means no check. */
  readonly tokens?: () => TokenSet;
  /** Mutating requests per minute per caller (default 30); 0 turns the limit off. */
  readonly mutationsPerMinute?: number;
  /** Bytes an API request body may have (default 4 MiB: PUT /v1/config carries whole configs). */
  readonly bodyLimit?: number;
  /** The address the API listens on: a Host name the API answers to (allowed-hosts.ts). */
  readonly apiHost?: string;
  /** More Host names the API answers to (--api-allowed-hosts); given, they apply with tokens too. */
  readonly allowedHosts?: readonly string[];
  /** Serve HTTPS with this certificate and key (`server.setSecureContext` replaces them later). */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
  /** What GET /v1/info answers (default: read from package.json and the installed Envoy API). */
  readonly info?: BuildInfo;
  /** The nodes' connection gauges: the latest (any replica's), and each node's recent history. */
  readonly connections?: { readonly latest: ConnectionSource; readonly history: NodeConnectionHistory };
}

/** The HTTP API app, not yet listening (tests call `inject`). */
export function buildApi(deps: ApiDeps): FastifyInstance {
  // Typed as Fastify's logger so that the app is a plain FastifyInstance, not one generic over pino's.
  const logger: FastifyBaseLogger = deps.logger.child({ component: 'api' });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT_BYTES,
    // Request lines would drown the xDS events at fleet scale; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown fields are errors that name them, not silently dropped (fastify's default).
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    ...(deps.https && { https: { cert: deps.https.cert, key: deps.https.key } }),
  });
  app.setErrorHandler(errorHandler);
  app.addHook(
    'onRequest',
    requireAllowedHost({
      ...(deps.apiHost !== undefined && { apiHost: deps.apiHost }),
      ...(deps.allowedHosts !== undefined && { allowed: deps.allowedHosts }),
      ...(deps.tokens !== undefined && { tokens: deps.tokens }),
    }),
  );
  if (deps.tokens !== undefined) app.addHook('onRequest', requireTokens(deps.tokens));
  app.addHook('onRequest', requireBodyType());
  parseJsonBodies(app);
  const perMinute = deps.mutationsPerMinute ?? DEFAULT_MUTATIONS_PER_MINUTE;
  if (perMinute > 0) app.register(rateLimit, mutationRateLimit(perMinute));
  if (deps.store) app.addHook('onRequest', refuseWhileStoreUnavailable(deps.store.health));
  const info = deps.info ?? buildInfo();
  app.register(swagger, {
    openapi: {
      info: { title: 'drainplane', description: 'Drain Envoy fleets through LDS', version: info.version },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A read token for reads, an admin token for changes' },
        },
      },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.register(healthRoutes, { readiness: deps.readiness });
  app.register(prestopRoutes, { prestop: deps.prestop });
  app.register(metricsRoutes, { registry: deps.metrics });
  app.register(infoRoutes, { info });
  const read = () =>
    new FleetRead({
      nodes: deps.nodes,
      desired: deps.desired,
      drains: deps.drains,
      ...(deps.connections && { connections: deps.connections.latest }),
    });
  // Connection counts over time, for the console's charts: kept whether or not anyone watches.
  const history = new ConnectionHistory();
  const feed = new FleetFeed({ nodes: deps.nodes, drains: deps.drains, read, history, logger: app.log });
  const unwatch = deps.drains.onChange((d) => history.record(d, Date.now()));
  app.addHook('onClose', async () => {
    unwatch();
    feed.close();
  });
  app.register(nodeRoutes, { nodes: deps.nodes, read, ...(deps.connections && { history: deps.connections.history }) });
  app.register(fleetRoutes, { read, feed });
  app.register(configRoutes, { config: deps.config });
  app.register(drainRoutes, { drains: deps.drains, history });
  app.register(uiRoutes);
  if (deps.store) app.register(storeRoutes, { store: deps.store });
  return app;
}

/**
 * The probe listener: only /healthz and /readyz, so it can listen beyond loopback for the
 * kubelet's httpGet probes without exposing the API.
 */
export function buildProbeApi(logger: Logger, readiness: ReadinessCheck): FastifyInstance {
  const probeLogger: FastifyBaseLogger = logger.child({ component: 'probes' });
  const app = Fastify({
    loggerInstance: probeLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.register(healthRoutes, { readiness });
  return app;
}
