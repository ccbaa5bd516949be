import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { NodeRegistry } from '../fleet/registry.js';
import type { ConfigService } from '../fleet/config-service.js';
import { requireAdminToken } from './auth.js';
import { configRoutes } from './routes/config.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { nodeRoutes } from './routes/nodes.js';

/** What the HTTP API reads; the composition root supplies it. */
export interface ApiDeps {
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly nodes: NodeRegistry;
  readonly config: ConfigService;
  /** Bearer token mutating requests must carry; none means no check. */
  readonly adminToken?: string;
  /** False while the daemon starts or shuts down. */
  readonly ready: () => boolean;
  /** Bytes an API request body may have. */
  readonly bodyLimit?: number;
}

/** The HTTP API app, not yet listening (tests call `inject`). */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? 4 * 1024 * 1024,
    // Request lines would drown the xDS events at fleet scale; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  });
  if (deps.adminToken !== undefined) app.addHook('onRequest', requireAdminToken(deps.adminToken));
  app.register(healthRoutes, { ready: deps.ready });
  app.register(metricsRoutes, { registry: deps.metrics });
  app.register(nodeRoutes, { nodes: deps.nodes });
  app.register(configRoutes, { config: deps.config });
  return app;
}
