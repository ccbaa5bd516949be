/**
 * What the Envoy test double reports: one JSON object per event, `{ at, pid, type, ... }`,
 * appended as a line to the file named by ENVOY_DOUBLE_EVENTS and written to stdout behind
 * EVENT_LINE_PREFIX (stdout is what a supervisor relays into its log).
 *
 * Shared by the double (which writes events) and control.ts (which reads them).
 */
import { appendFileSync } from 'node:fs';

/** Environment variable naming the events file. Without it, events go to stdout only. */
export const EVENTS_FILE_ENV = 'ENVOY_DOUBLE_EVENTS';

/** Starts every event line on stdout, so events can be told from other output. */
const EVENT_LINE_PREFIX = '[envoy-double] ';

export type XdsKind = 'CDS' | 'EDS' | 'LDS' | 'RDS';
export type TrafficDirection = 'UNSPECIFIED' | 'INBOUND' | 'OUTBOUND';
export type DrainType = 'DEFAULT' | 'MODIFY_ONLY';
export type DrainStrategy = 'gradual' | 'immediate';
export type ServerState = 'PRE_INITIALIZING' | 'INITIALIZING' | 'LIVE';

/** A listener as the double last accepted it. */
export interface ListenerFacts {
  name: string;
  /** `host:port` of its socket address, a pipe path, or '' when it has none. */
  address: string;
  traffic_direction: TrafficDirection;
  drain_type: DrainType;
  /** version_info of the LDS response that carried this content. */
  version: string;
}

/** Connection gauges the test sets: `listener.<scope>.downstream_cx_active`, `http.<prefix>.downstream_cx_active`. */
export interface ConnectionGaugeSettings {
  /** By listener stat scope, e.g. `{ "127.0.0.1_10000": 3 }`. */
  listeners: Record<string, number>;
  /** By HTTP connection manager stat_prefix. */
  http: Record<string, number>;
}

export type EventBody =
  | {
      type: 'started';
      node: { id: string; cluster: string };
      /** Where the admin API listens, `host:port`, with the real port when the bootstrap said 0. */
      admin_address: string;
      xds_address: string;
      drain_time_s: number;
      drain_strategy: DrainStrategy;
      /** host:port of the metrics_service sink, or null when none is configured. */
      metrics_sink: string | null;
      stats_flush_interval_ms: number;
      /** Command-line arguments the double does not model, as given. */
      ignored_flags: string[];
    }
  | { type: 'server_state'; state: ServerState }
  /** `attempt`: streams opened since a response last arrived, this one included. */
  | { type: 'xds_stream_opened'; address: string; attempt: number }
  | { type: 'xds_stream_closed'; code: number; details: string; retry_in_ms: number }
  | { type: 'xds_ack'; resource_type: XdsKind; version: string; nonce: string; resources: string[] }
  | { type: 'xds_nack'; resource_type: XdsKind; rejected_version: string; nonce: string; error: string }
  | ({ type: 'listener_added' } & ListenerFacts)
  | ({
      type: 'listener_modified';
      /** filter_chains: only filter chains changed (an in-place update); full: anything else. */
      update: 'filter_chains' | 'full';
      previous_version: string;
    } & ListenerFacts)
  | ({ type: 'listener_removed' } & ListenerFacts)
  | { type: 'listener_update_ignored'; name: string; version: string; reason: string }
  | ({
      type: 'listener_drain_started';
      reason: 'removed' | 'modified';
      /** What drains: the whole old listener, or only connections on changed filter chains. */
      scope: 'listener' | 'filter_chains';
      drain_time_s: number;
      drain_strategy: DrainStrategy;
      ends_at: string;
    } & ListenerFacts)
  | ({ type: 'listener_drain_finished'; reason: 'removed' | 'modified' } & ListenerFacts)
  /** `affects`: the listeners whose connections now get the drain signal (drain_type DEFAULT). */
  | { type: 'healthcheck_fail'; affects: string[] }
  | { type: 'healthcheck_ok' }
  | { type: 'drain_listeners'; graceful: boolean; inboundonly: boolean; skip_exit: boolean; listeners: string[] }
  /** A request to a mutating admin endpoint that was refused (wrong method, bad flags). */
  | { type: 'admin_refused'; method: string; path: string; status: number; body: string }
  | ({ type: 'gauges_set' } & ConnectionGaugeSettings)
  /** The metrics sink sent gauges that differ from those it sent before (recorded once per change). */
  | ({ type: 'gauges_flushed' } & ConnectionGaugeSettings)
  | { type: 'quitquitquit' }
  | { type: 'signal'; signal: NodeJS.Signals; action: 'exit' | 'ignored' };

export interface EventEnvelope {
  /** ISO time the double recorded it. */
  at: string;
  pid: number;
}

export type EnvoyDoubleEvent = EventEnvelope & EventBody;

export interface EventSink {
  record(event: EventBody): void;
}

/**
 * Writes events synchronously, so that an event recorded just before process.exit() is on disk
 * and on stdout (a pipe or file, both written synchronously on Linux) when the process is gone.
 */
export class EventRecorder implements EventSink {
  constructor(
    private readonly file: string | undefined,
    private readonly stdout: { write(line: string): unknown } = process.stdout,
  ) {}

  record(event: EventBody): void {
    const line = JSON.stringify({ at: new Date().toISOString(), pid: process.pid, ...event });
    if (this.file) appendFileSync(this.file, `${line}\n`);
    this.stdout.write(`${EVENT_LINE_PREFIX}${line}\n`);
  }
}

/**
 * The events in an events file. A last line without its newline may still be being written by
 * the double, and is left out.
 */
export function parseEventFile(text: string): EnvoyDoubleEvent[] {
  return completeLines(text)
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as EnvoyDoubleEvent);
}

function completeLines(text: string): string[] {
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1);
}
