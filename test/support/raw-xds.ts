/**
 * xDS over a bare HTTP/2 connection, for tests of clients that misbehave below gRPC: streams
 * whose responses nobody reads, requests written as raw gRPC frames.
 */
import http2 from 'node:http2';
import { envoyProtos } from '../../src/resource/protos.js';

export const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
export const LDS_PATH = '/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners';

/** One DiscoveryRequest as a gRPC message: uncompressed flag, 4-byte length, the bytes. */
export function discoveryRequestFrame(request: Record<string, unknown>): Buffer {
  const type = envoyProtos().type('envoy.service.discovery.v3.DiscoveryRequest');
  const bytes = type.encode(type.fromObject(request)).finish();
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

/** A discovery stream over a bare HTTP/2 connection: nothing reads what the server sends. */
export function rawStream(session: http2.ClientHttp2Session, path: string): http2.ClientHttp2Stream {
  const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => {});
  return stream;
}

/** An HTTP/2 connection to the port on loopback, once the server's settings arrived. */
export function connected(port: number): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  return new Promise((resolve) => session.once('remoteSettings', () => resolve(session)));
}

/** The RST_STREAM code the stream ends with (-1 for none), once it closes. */
export function resetCode(stream: http2.ClientHttp2Stream): Promise<number> {
  return new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode ?? -1)));
}
