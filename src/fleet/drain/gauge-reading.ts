import type { ListenerInfo } from '../config.js';
import type { ConnectionReport } from './ports.js';
import type { ConnectionReading } from './observation.js';

/**
 * A node's connection gauges read by listener name, through the stat names its listeners
 * have: `listener.<address>` first, else the sum of its HTTP connection managers' prefixes.
 */
export function gaugeReading(report: ConnectionReport, listeners: readonly ListenerInfo[]): ConnectionReading {
  return {
    at: report.at.getTime(),
    listenerVersions: report.listenerManager,
    connections: (name) => {
      const info = listeners.find((l) => l.name === name);
      if (!info) return null;
      if (info.statAddress !== null && report.listeners.has(info.statAddress)) return report.listeners.get(info.statAddress)!;
      const http = info.httpPrefixes.filter((p) => report.httpPrefixes.has(p));
      if (http.length > 0) return http.reduce((sum, p) => sum + report.httpPrefixes.get(p)!, 0);
      // Gauges of a listener Envoy no longer has are dropped: none left. With no stat name to
      // look for, nothing can be told.
      return info.statAddress === null && info.httpPrefixes.length === 0 ? null : undefined;
    },
  };
}
