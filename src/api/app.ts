import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ConfigService } from '../fleet/config-service.js';
import type { DrainManager } from '../fleet/drain/manager.js';
import { nodeListeners } from '../fleet/drain/plan.js';
import type { NodeRegistry } from '../fleet/registry.js';
import { requireTokens } from './auth.js';
import { errorHandler } from './errors.js';
import { DEFAULT_MUTATIONS_PER_MINUTE, mutationRateLimit } from './rate-limit.js';
import { configRoutes } from './routes/config.js';
import { drainRoutes } from './routes/drains.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { prestopRoutes, type PrestopResult } from './routes/prestop.js';
import { metricsRoutes } from './routes/metrics.js';
import { nodeRoutes } from './routes/nodes.js';
import type { TokenSet } from './tokens.js';

export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** What the HTTP API reads; the composition root supplies it. */
export interface ApiDeps {
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly nodes: NodeRegistry;
  readonly config: ConfigService;
  readonly drains: DrainManager;
  /** Why the daemon is not ready (starting, shutting down, its Envoy not synced), or null. */
  readonly readiness: ReadinessCheck;
  /** The local drain of `drainplane run`, for preStop hooks. */
  readonly prestop: () => Promise<PrestopResult>;
  /** The bearer tokens in force (read on every request, so they can rotate); none means no check. */
  readonly tokens?: () => TokenSet;
  /** Mutating requests per minute per caller (default 30); 0 turns the limit off. */
  readonly mutationsPerMinute?: number;
  /** Bytes an API request body may have (default 4 MiB: PUT /v1/config carries whole configs). */
  readonly bodyLimit?: number;
  /** Serve HTTPS with this certificate and key (`server.setSecureContext` replaces them later). */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
}

/** The HTTP API app, not yet listening (tests call `inject`). */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT_BYTES,
    // Request lines would drown the xDS events at fleet scale; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown fields are errors that name them, not silently dropped (fastify's default).
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    ...(deps.https && { https: { cert: deps.https.cert, key: deps.https.key } }),
  });
  app.setErrorHandler(errorHandler);
  if (deps.tokens !== undefined) app.addHook('onRequest', requireTokens(deps.tokens));
  const perMinute = deps.mutationsPerMinute ?? DEFAULT_MUTATIONS_PER_MINUTE;
  if (perMinute > 0) app.register(rateLimit, mutationRateLimit(perMinute));
  app.register(swagger, {
    openapi: {
      info: { title: 'drainplane', description: 'Drain Envoy fleets through LDS', version: '0.1.0' },
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
  app.register(nodeRoutes, {
    nodes: deps.nodes,
    listenersOf: (identity) => {
      const overlay = deps.drains.overlayOf(identity.id);
      return nodeListeners(deps.config.current, identity).map((l) => {
        const o = overlay.get(l.name);
        return { name: l.name, role: l.role, drainType: l.drainType, drain: o ? { id: o.drainId, action: o.action } : null };
      });
    },
  });
  app.register(configRoutes, { config: deps.config });
  app.register(drainRoutes, { drains: deps.drains });
  return app;
}

/**
 * The probe listener: only /healthz and /readyz, so it can listen beyond loopback for the
 * kubelet's httpGet probes without exposing the API.
 */
export function buildProbeApi(logger: Logger, readiness: ReadinessCheck): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger.child({ component: 'probes' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.register(healthRoutes, { readiness });
  return app;
}
