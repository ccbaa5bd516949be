import pino, { type Logger } from 'pino';
import { TokensFileError } from '../api/token-store.js';
import { ConfigError, Daemon, type DaemonOptions } from '../daemon.js';
import { useMessageBufferPool } from '../net/buffer-pool.js';
import { CliError } from './errors.js';

/** The daemon's logger: --log-level, else DRAINPLANE_LOG_LEVEL, else info. */
export function daemonLogger(level: unknown): Logger {
  return pino({ level: (level as string | undefined) ?? process.env['DRAINPLANE_LOG_LEVEL'] ?? 'info' });
}

/** Starts the daemon; a bad config or tokens file is a CLI error (exit 1) listing every problem. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  useMessageBufferPool();
  try {
    return await Daemon.start(options);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TokensFileError) throw new CliError(err.message, 1);
    throw err;
  }
}
