import { DEFAULT_XDS_LIMITS, type XdsLimits } from '../xds/server.js';
import { integerFlag } from './args.js';

/** The flags that bound what xDS clients can make the daemon hold, and the limit each sets. */
const FLAGS = {
  'xds-max-total-queued-bytes': { limit: 'maxTotalQueuedBytes', min: 1 },
  'xds-max-node-metadata-bytes': { limit: 'maxNodeMetadataBytes', min: 256 },
  'xds-max-nack-message-bytes': { limit: 'maxNackMessageBytes', min: 1 },
  'xds-max-selection-cache-bytes': { limit: 'maxSelectionCacheBytes', min: 0 },
  'xds-max-parked-bytes': { limit: 'maxParkedBytes', min: 1 },
  'xds-max-disconnected-nodes': { limit: 'maxDisconnectedNodes', min: 0 },
  'xds-max-disconnected-bytes': { limit: 'maxDisconnectedNodeBytes', min: 0 },
  'xds-max-log-lines-per-node': { limit: 'maxLogLinesPerNode', min: 0 },
  'xds-max-log-lines-per-event': { limit: 'maxLogLinesPerEvent', min: 0 },
} as const satisfies Record<string, { limit: keyof XdsLimits; min: number }>;

type FlagName = keyof typeof FLAGS;

export const XDS_LIMIT_FLAGS = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' }])) as Record<FlagName, { type: 'string' }>;

/** The flags with their defaults, two to a line, indented to follow serve's usage lines. */
export const XDS_LIMITS_USAGE = Object.entries(FLAGS)
  .map(([flag, { limit }]) => `[--${flag} ${DEFAULT_XDS_LIMITS[limit]}]`)
  .map((usage, i) => (i === 0 ? '' : i % 2 === 0 ? `\n${' '.repeat(23)}` : ' ') + usage)
  .join('');

export const XDS_LIMITS_HELP = `Memory bounds on what xDS clients make the daemon hold (see README "Limits"):
--xds-max-total-queued-bytes of responses all nodes together leave unread: past it the slowest
streams are reset; --xds-max-node-metadata-bytes of node metadata (JSON) kept per node;
--xds-max-nack-message-bytes of a NACK message kept and logged; --xds-max-selection-cache-bytes
of responses cached for the resource names nodes ask for; --xds-max-parked-bytes of rejections
kept for parking; --xds-max-disconnected-nodes and --xds-max-disconnected-bytes of nodes that
left, kept for GET /v1/nodes; --xds-max-log-lines-per-node per event and minute, and
--xds-max-log-lines-per-event over all nodes per minute (0 = no limit).`;

/** The limits the flags set; errors name the flag. */
export function xdsLimitOptions(values: Record<string, string | boolean | undefined>): Partial<XdsLimits> {
  const limits: Partial<Record<keyof XdsLimits, number>> = {};
  for (const [flag, { limit, min }] of Object.entries(FLAGS)) {
    if (values[flag] !== undefined) limits[limit] = integerFlag(flag, values[flag], DEFAULT_XDS_LIMITS[limit], min);
  }
  return limits;
}
