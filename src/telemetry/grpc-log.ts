import * as grpc from '@grpc/grpc-js';
import { format } from 'node:util';
import type { Logger } from 'pino';

/**
 * grpc-js writes its own errors to stderr, outside the daemon's JSON log (and in the middle of
 * a CLI's one-line error). They go to the daemon's logger instead, as warnings.
 */
export function routeGrpcLogs(logger: Logger): void {
  const log = logger.child({ component: 'grpc' });
  grpc.setLogger({
    error: (...args: unknown[]) => log.warn(format(...args)),
    info: (...args: unknown[]) => log.info(format(...args)),
    debug: (...args: unknown[]) => log.debug(format(...args)),
  });
}
