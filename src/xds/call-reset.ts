import http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/**
 * Resets the HTTP/2 stream under a server call with ENHANCE_YOUR_CALM, which gRPC clients
 * report as RESOURCE_EXHAUSTED (PROTOCOL-HTTP2.md, "Errors"), and drops what is queued on it.
 *
 * A status cannot do this: its trailers queue behind the very bytes the peer is not reading,
 * so they never arrive and the bytes stay held as long as the connection lives (the peer's
 * HTTP/2 layer still answers keepalive pings). grpc-js has no public way to reset a server
 * stream, so the HTTP/2 stream is reached through its internals (`ServerDuplexStreamImpl.call`,
 * `BaseServerInterceptingCall.stream` in 1.14), checked at each step; the send-queue test
 * fails if an upgrade moves them. Returns false when the stream could not be reached.
 */
export function resetCall(call: grpc.ServerDuplexStream<unknown, unknown>): boolean {
  const stream = (call as unknown as { call?: { stream?: unknown } }).call?.stream;
  if (!isHttp2Stream(stream)) return false;
  stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  return true;
}

function isHttp2Stream(value: unknown): value is http2.Http2Stream {
  return typeof value === 'object' && value !== null && 'rstCode' in value && typeof (value as { close?: unknown }).close === 'function';
}
