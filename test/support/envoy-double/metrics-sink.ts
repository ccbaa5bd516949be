/**
 * The Envoy test double's `envoy.stat_sinks.metrics_service` sink: every stats flush interval it
 * sends the connection gauges the test set, over one StreamMetrics call that names the node on
 * its first message (ENVOY-FACTS "Admin API", last point; grpc_metrics_service_impl.cc). The
 * messages are built by ../envoy-metrics-client.ts, which names stats as Envoy does, with or
 * without emit_tags_as_labels (its identifier always names the cluster "test-cluster"; drainplane
 * goes by the node id). A broken stream is replaced at the next flush, as Envoy's
 * GrpcMetricsStreamer opens a new stream when it has none.
 */
import { openEnvoyMetricsStream, type EnvoyMetricsStream } from '../envoy-metrics-client.js';
import type { ConnectionGaugeSettings, EventSink } from './events.js';

export interface MetricsSinkOptions {
  address: string;
  nodeId: string;
  emitTagsAsLabels: boolean;
  flushIntervalMs: number;
  /** The gauges to send at each flush. */
  gauges(): ConnectionGaugeSettings;
  events: EventSink;
}

export class MetricsSink {
  #stream: EnvoyMetricsStream | undefined;
  #reportedFailure = false;
  /** The gauges of the last flush, as JSON, to record a `gauges_flushed` event only on a change. */
  #lastSent = '';

  constructor(private readonly options: MetricsSinkOptions) {}

  start(): void {
    setInterval(() => this.flush(), this.options.flushIntervalMs);
  }

  flush(): void {
    // A stream that lived from one flush to the next means an earlier outage is over.
    if (this.#stream) this.#reportedFailure = false;
    const stream = (this.#stream ??= this.#open());
    const gauges = this.options.gauges();
    stream.send(gauges, { tagsAsLabels: this.options.emitTagsAsLabels });
    const sent = JSON.stringify(gauges);
    if (sent !== this.#lastSent) {
      this.#lastSent = sent;
      this.options.events.record({ type: 'gauges_flushed', ...gauges });
    }
  }

  #open(): EnvoyMetricsStream {
    const stream = openEnvoyMetricsStream(this.options.address, this.options.nodeId);
    void stream.closed.then((status) => {
      if (this.#stream === stream) this.#stream = undefined;
      // One line per outage rather than one per flush while the control plane is away.
      if (!this.#reportedFailure) {
        this.#reportedFailure = true;
        process.stderr.write(`envoy double: metrics stream to ${this.options.address} closed: ${status.code} ${status.details}\n`);
      }
    });
    return stream;
  }
}
