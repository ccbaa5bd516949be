/** A pino logger whose JSON lines a test can read back. */
import pino, { type Logger } from 'pino';

export interface CapturedLogs {
  readonly logger: Logger;
  /** Every line logged so far, parsed. */
  readonly entries: Record<string, unknown>[];
  /** The lines with this `event` field. */
  withEvent(event: string): Record<string, unknown>[];
}

export function captureLogs(level = 'info'): CapturedLogs {
  const entries: Record<string, unknown>[] = [];
  const logger = pino(
    { level },
    {
      write(chunk: string): void {
        for (const line of chunk.split('\n')) if (line) entries.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, entries, withEvent: (event) => entries.filter((e) => e['event'] === event) };
}
