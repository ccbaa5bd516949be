/**
 * The size of Node's shared pool for small Buffers (`Buffer.allocUnsafe` below half of it),
 * for a process that writes one framed gRPC message per node and push. grpc-js copies every
 * message into a fresh `Buffer.allocUnsafe(length + 5)`; with Node's default 8 KiB pool, a
 * few-KiB listener response takes a new pool every one or two messages, and allocating those
 * ArrayBuffers was the largest single cost of a fleet-wide push. A 64 KiB pool takes one per
 * fifteen or so; a pooled slice that lives on keeps at most 64 KiB alive.
 */
export const MESSAGE_BUFFER_POOL_BYTES = 64 * 1024;

export function useMessageBufferPool(): void {
  Buffer.poolSize = MESSAGE_BUFFER_POOL_BYTES;
}
