/** A pino logger whose JSON lines a test can read back. */
import pino, { type Logger } from 'pino';

export interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: Record<string, unknown>[];
  /** The lines whose `event` field is `event`. */
  events(event: string): Record<string, unknown>[];
}

export function captureLogs(level = 'info'): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines, events: (event) => lines.filter((l) => l['event'] === event) };
}
