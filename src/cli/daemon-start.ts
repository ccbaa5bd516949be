import pino, { type Logger } from 'pino';
import { TokensFileError } from '../api/token-store.js';
import { ConfigError, Daemon, ListenError, type DaemonOptions, type LocalEnvoyHooks } from '../daemon.js';
import { StoreOpenError } from '../store/errors.js';
import { useMessageBufferPool } from '../net/buffer-pool.js';
import { routeGrpcLogs } from '../telemetry/grpc-log.js';
import { CliError } from './errors.js';

/** The daemon's logger: --log-level, else DRAINPLANE_LOG_LEVEL, else info. */
export function daemonLogger(level: unknown): Logger {
  return pino({ level: (level as string | undefined) ?? process.env['DRAINPLANE_LOG_LEVEL'] ?? 'info' });
}

/**
 * Creates the daemon (not yet listening); a bad config or tokens file is a one-line CLI error
 * (exit 1) listing every problem, and a state store that cannot be reached one naming it.
 */
export async function createDaemon(options: DaemonOptions): Promise<Daemon> {
  useMessageBufferPool();
  routeGrpcLogs(options.logger);
  try {
    return await Daemon.create(options);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TokensFileError) throw new CliError(err.message, 1);
    if (err instanceof StoreOpenError) throw new CliError(`state store: ${err.message}`, 1);
    throw err;
  }
}

/**
 * Binds the daemon's ports; one that cannot be bound is a one-line CLI error naming its flag
 * and address (exit 1), and the daemon is closed: nothing runs half-started.
 */
export async function listenDaemon(daemon: Daemon, local?: LocalEnvoyHooks): Promise<void> {
  try {
    await daemon.listen(local);
  } catch (err) {
    if (err instanceof ListenError) throw new CliError(`--${err.port}-port: ${err.message}`, 1);
    throw err;
  }
}

/**
 * Once the daemon has stopped, the process ends within `graceMs` even if a library left a
 * handle open (a store client reconnecting to a server that went away while it closed): a
 * stopped control plane that lingers holds its ports' owner, its pod, and its lock.
 */
export function exitAfterStop(code: number, graceMs = 2000): number {
  setTimeout(() => process.exit(code), graceMs).unref();
  return code;
}
