/**
 * Decoding of GET /server_info, Envoy's envoy.admin.v3.ServerInfo printed as proto3 JSON
 * (source/server/admin/server_info_handler.cc).
 */

/** `envoy.admin.v3.ServerInfo.State`; other strings pass through for forward compatibility. */
export type ServerState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING' | (string & {});

/** `envoy.admin.v3.CommandLineOptions.DrainStrategy`. */
export type DrainStrategy = 'Gradual' | 'Immediate' | (string & {});

export interface ServerInfo {
  /** Release number from the long version string, e.g. "1.34.1" or "1.35.0-dev". */
  readonly version: string;
  readonly state: ServerState;
  /** `--drain-time-s`: how long a drain lasts before remaining connections are closed. */
  readonly drainTimeSeconds?: number;
  readonly drainStrategy?: DrainStrategy;
  /** `--parent-shutdown-time-s` (hot restart). */
  readonly parentShutdownTimeSeconds?: number;
  readonly node?: { readonly id: string; readonly cluster: string };
}

/** Thrown for a body that does not match; the client reports it as 'bad_response'. */
export class ServerInfoFormatError extends Error {}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Envoy's version string is "<commit>/<release>/<Clean|Modified>/<RELEASE|DEBUG>/<TLS library>",
 * e.g. "e3b4a6e9.../1.34.1/Clean/RELEASE/BoringSSL" (source/common/version/version.cc).
 */
export function releaseFromVersionString(long: string): string | undefined {
  return long.split('/').find((part) => /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(part));
}

/** A google.protobuf.Duration in proto3 JSON: "600s", "0.500s". */
function durationSeconds(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(value) : null;
  if (!m) throw new ServerInfoFormatError(`${field} is not a duration: ${JSON.stringify(value)}`);
  return Number(m[1]);
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ServerInfoFormatError(`${field} is not a string`);
  return value;
}

export function parseServerInfo(json: unknown): ServerInfo {
  if (!isObject(json)) throw new ServerInfoFormatError('not a JSON object');
  if (typeof json.version !== 'string') throw new ServerInfoFormatError('version is missing');
  const version = releaseFromVersionString(json.version);
  if (version === undefined) throw new ServerInfoFormatError(`no release number in version "${json.version}"`);
  if (typeof json.state !== 'string') throw new ServerInfoFormatError('state is missing');

  const options = isObject(json.command_line_options) ? json.command_line_options : {};
  const info: {
    -readonly [K in keyof ServerInfo]: ServerInfo[K];
  } = { version, state: json.state };
  const drainTime = durationSeconds(options.drain_time, 'command_line_options.drain_time');
  if (drainTime !== undefined) info.drainTimeSeconds = drainTime;
  const strategy = optionalString(options.drain_strategy, 'command_line_options.drain_strategy');
  if (strategy !== undefined) info.drainStrategy = strategy;
  const parentShutdown = durationSeconds(options.parent_shutdown_time, 'command_line_options.parent_shutdown_time');
  if (parentShutdown !== undefined) info.parentShutdownTimeSeconds = parentShutdown;
  if (isObject(json.node)) {
    info.node = {
      id: optionalString(json.node.id, 'node.id') ?? '',
      cluster: optionalString(json.node.cluster, 'node.cluster') ?? '',
    };
  }
  return info;
}
