import { DEFAULT_RETENTION, type Retention } from '../fleet/drain/retention.js';
import { integerFlag } from './args.js';

/** How much drain history is kept: flags shared by `serve` and `run`. */
export const RETENTION_FLAGS = {
  'drain-history': { type: 'string' },
  'drain-history-days': { type: 'string' },
} as const;

export const RETENTION_HELP = `Drain history: finished drains that hold nothing (cancelled, or with nothing to drain) are kept,
the newest --drain-history ${DEFAULT_RETENTION.keep} of them and none older than --drain-history-days ${DEFAULT_RETENTION.maxAgeSeconds / 86400}.
A finished drain that still holds a node drained is kept until it is cancelled.`;

export function retentionOptions(values: Readonly<Record<string, string | boolean | undefined>>): Retention {
  return {
    keep: integerFlag('drain-history', values['drain-history'], DEFAULT_RETENTION.keep, 0),
    maxAgeSeconds: integerFlag('drain-history-days', values['drain-history-days'], DEFAULT_RETENTION.maxAgeSeconds / 86400, 1) * 86400,
  };
}
