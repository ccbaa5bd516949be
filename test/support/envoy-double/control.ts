/**
 * Parent side of the Envoy test double (main.ts): writing its bootstrap, starting it, reading its
 * events, and setting the connection gauges it reports.
 *
 * Tests that run the double under a supervisor (`drainplane run -- ...`) build the command with
 * envoyDoubleCommand() and pass ENVOY_DOUBLE_EVENTS in the environment; tests that run it
 * directly use startEnvoyDouble().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { GAUGES_HOOK } from './admin.js';
import {
  EVENTS_FILE_ENV,
  parseEventFile,
  type ConnectionGaugeSettings,
  type EnvoyDoubleEvent,
  type EventOf,
  type EventType,
} from './events.js';

export { EVENT_LINE_PREFIX, EVENTS_FILE_ENV, parseRelayedEvents } from './events.js';
export type { ConnectionGaugeSettings, EnvoyDoubleEvent, EventOf, EventType, ListenerFacts } from './events.js';

/** The compiled executable. */
export const ENVOY_DOUBLE_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** The command line that runs the double with these Envoy arguments, e.g. as a supervisor's child. */
export function envoyDoubleCommand(envoyArgs: readonly string[]): string[] {
  return [process.execPath, '--enable-source-maps', ENVOY_DOUBLE_MAIN, ...envoyArgs];
}

// ---------------------------------------------------------------------------------------------
// Events

/** Every event in the file so far; none when the file does not exist yet. */
export async function readEvents(file: string): Promise<EnvoyDoubleEvent[]> {
  try {
    return parseEventFile(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

const POLL_MS = 20;

/**
 * Resolves with the first event in the file, already there or still to come, that matches;
 * rejects after timeoutMs naming the events seen.
 */
export async function waitForEvent<E extends EnvoyDoubleEvent>(
  file: string,
  predicate: (event: EnvoyDoubleEvent) => event is E,
  timeoutMs?: number,
): Promise<E>;
export async function waitForEvent(
  file: string,
  predicate: (event: EnvoyDoubleEvent) => boolean,
  timeoutMs?: number,
): Promise<EnvoyDoubleEvent>;
export async function waitForEvent(
  file: string,
  predicate: (event: EnvoyDoubleEvent) => boolean,
  timeoutMs = 5000,
): Promise<EnvoyDoubleEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await readEvents(file);
    const found = events.find(predicate);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(`no matching envoy double event within ${timeoutMs} ms; seen: ${summary(events)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A predicate for events of one type (and, optionally, more). */
export function ofType<T extends EventType>(type: T, and?: (event: EventOf<T>) => boolean): (event: EnvoyDoubleEvent) => event is EventOf<T> {
  return (event): event is EventOf<T> => event.type === type && (!and || and(event as EventOf<T>));
}

function summary(events: readonly EnvoyDoubleEvent[]): string {
  if (events.length === 0) return 'none';
  return events.map((e) => ('name' in e ? `${e.type}(${e.name})` : e.type)).join(', ');
}

// ---------------------------------------------------------------------------------------------
// Gauges

/**
 * Replaces the connection gauges the double serves on /stats and sends on its metrics sink,
 * through its test hook. Missing fields mean no gauges of that kind.
 */
export async function setGauges(adminAddress: string, gauges: Partial<ConnectionGaugeSettings>): Promise<void> {
  const res = await fetch(`http://${adminAddress}${GAUGES_HOOK}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(gauges),
  });
  if (res.status !== 200) throw new Error(`${GAUGES_HOOK} answered ${res.status}: ${await res.text()}`);
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

export interface DoubleBootstrapOptions {
  nodeId: string;
  cluster: string;
  /** The control plane, `host:port`; ADS and (when on) the metrics sink both go there. */
  xdsAddress: string;
  /** Default 0: the double picks a free port and reports it in its `started` event. */
  adminPort?: number;
  /** The envoy.stat_sinks.metrics_service sink; default on. */
  metricsSink?: boolean;
  /** Default true, as in envoy/bootstrap.yaml. */
  emitTagsAsLabels?: boolean;
  /** stats_flush_interval; default 1000. */
  statsFlushIntervalMs?: number;
  metadata?: Record<string, string>;
}

export interface WrittenBootstrap {
  /** A new temp folder holding the file, for the caller to remove; a good place for the events file too. */
  dir: string;
  file: string;
}

/** Writes a bootstrap shaped like envoy/bootstrap.yaml into a new temp folder. */
export async function writeDoubleBootstrap(o: DoubleBootstrapOptions): Promise<WrittenBootstrap> {
  const { host, port } = splitHostPort(o.xdsAddress);
  const grpcService = { envoy_grpc: { cluster_name: 'xds_cluster' } };
  const bootstrap = {
    node: { id: o.nodeId, cluster: o.cluster, ...(o.metadata && { metadata: o.metadata }) },
    dynamic_resources: {
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        set_node_on_first_message_only: true,
        grpc_services: [grpcService],
      },
      lds_config: { ads: {}, resource_api_version: 'V3' },
      cds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: {
      clusters: [
        {
          name: 'xds_cluster',
          type: 'STATIC',
          connect_timeout: '1s',
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
          load_assignment: {
            cluster_name: 'xds_cluster',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }],
          },
        },
      ],
    },
    stats_flush_interval: `${(o.statsFlushIntervalMs ?? 1000) / 1000}s`,
    ...((o.metricsSink ?? true) && {
      stats_sinks: [
        {
          name: 'envoy.stat_sinks.metrics_service',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.config.metrics.v3.MetricsServiceConfig',
            transport_api_version: 'V3',
            emit_tags_as_labels: o.emitTagsAsLabels ?? true,
            grpc_service: grpcService,
          },
        },
      ],
    }),
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: o.adminPort ?? 0 } } },
  };
  const dir = await mkdtemp(path.join(tmpdir(), 'envoy-double-'));
  const file = path.join(dir, 'bootstrap.yaml');
  await writeFile(file, YAML.stringify(bootstrap));
  return { dir, file };
}

function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`"${address}" is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

// ---------------------------------------------------------------------------------------------
// Running it directly

export interface EnvoyDouble {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly eventsFile: string;
  /** From its `started` event. */
  readonly adminAddress: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its stdout and stderr so far. */
  output(): string;
  /** This process's events (the file may hold other processes' too). */
  events(): Promise<EnvoyDoubleEvent[]>;
  /** waitForEvent() on this process's events. */
  waitFor<E extends EnvoyDoubleEvent>(predicate: (event: EnvoyDoubleEvent) => event is E, timeoutMs?: number): Promise<E>;
  setGauges(gauges: Partial<ConnectionGaugeSettings>): Promise<void>;
  /** SIGKILL unless it has exited; resolves once it has. Safe in `after` hooks. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** Where its events are appended (ENVOY_DOUBLE_EVENTS). */
  eventsFile: string;
  /** Default 10 s. */
  startTimeoutMs?: number;
}

/** Processes still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** Spawns the double with these Envoy arguments and resolves once its admin API listens. */
export async function startEnvoyDouble(envoyArgs: readonly string[], options: StartOptions): Promise<EnvoyDouble> {
  const { eventsFile } = options;
  const [command, ...args] = envoyDoubleCommand(envoyArgs);
  const child = spawn(command!, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [EVENTS_FILE_ENV]: eventsFile },
  });
  running.add(child);
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (output += chunk));
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const pid = child.pid;
  const ownEvents = async (): Promise<EnvoyDoubleEvent[]> => (await readEvents(eventsFile)).filter((e) => e.pid === pid);
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const started = await Promise.race([
    waitForEvent(eventsFile, ofType('started', (e) => e.pid === pid), options.startTimeoutMs ?? 10_000),
    exited.then(({ code, signal }) => {
      throw new Error(`the envoy double exited (code ${code}, signal ${signal}) before starting:\n${output}`);
    }),
  ]).catch(async (err: unknown) => {
    await kill();
    throw err;
  });
  return {
    child,
    pid: pid!,
    eventsFile,
    adminAddress: started.admin_address,
    exited,
    output: () => output,
    events: ownEvents,
    waitFor<E extends EnvoyDoubleEvent>(predicate: (event: EnvoyDoubleEvent) => event is E, timeoutMs?: number): Promise<E> {
      return waitForEvent(eventsFile, (e): e is E => e.pid === pid && predicate(e), timeoutMs);
    },
    setGauges: (gauges) => setGauges(started.admin_address, gauges),
    kill,
  };
}
