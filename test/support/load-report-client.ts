/**
 * A simulated Envoy's load reporting (LRS) stream: it names its node first, waits for the
 * server's answer (which clusters, how often), then sends the reports a test writes.
 */
import * as grpc from '@grpc/grpc-js';
import { envoyProtos } from '../../src/resource/protos.js';

const protos = envoyProtos();
const LoadStatsRequest = protos.type('envoy.service.load_stats.v3.LoadStatsRequest');
const LoadStatsResponse = protos.type('envoy.service.load_stats.v3.LoadStatsResponse');
const PATH = '/envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats';

export interface LoadStatsAnswer {
  send_all_clusters?: boolean;
  report_endpoint_granularity?: boolean;
  load_reporting_interval?: { seconds?: number; nanos?: number };
}

export class LoadReportClient {
  readonly answers: LoadStatsAnswer[] = [];
  private constructor(
    private readonly client: grpc.Client,
    private readonly call: grpc.ClientDuplexStream<Record<string, unknown>, LoadStatsAnswer>,
  ) {}

  static async open(address: string, nodeId: string, cluster = 'test-cluster'): Promise<LoadReportClient> {
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    const call = client.makeBidiStreamRequest<Record<string, unknown>, LoadStatsAnswer>(
      PATH,
      (m) => Buffer.from(LoadStatsRequest.encode(LoadStatsRequest.fromObject(m)).finish()),
      (b) => LoadStatsResponse.toObject(LoadStatsResponse.decode(b), { longs: Number, defaults: false }),
    );
    const lrs = new LoadReportClient(client, call);
    call.on('error', () => undefined);
    const first = new Promise<void>((resolve, reject) => {
      call.once('data', () => resolve());
      call.once('error', reject);
    });
    call.on('data', (answer: LoadStatsAnswer) => lrs.answers.push(answer));
    call.write({ node: { id: nodeId, cluster } });
    await first;
    return lrs;
  }

  /** One report: requests in progress per `HOST:PORT` (IPv4) of one cluster; endpoints at 0 are left out, as Envoy does. */
  report(cluster: string, inProgress: Readonly<Record<string, number>>): void {
    const endpoints = Object.entries(inProgress)
      .filter(([, n]) => n > 0)
      .map(([hostPort, n]) => {
        const [address, port] = hostPort.split(':');
        return { address: { socket_address: { address, port_value: Number(port) } }, total_requests_in_progress: n };
      });
    this.call.write({ cluster_stats: [{ cluster_name: cluster, upstream_locality_stats: [{ upstream_endpoint_stats: endpoints }] }] });
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
