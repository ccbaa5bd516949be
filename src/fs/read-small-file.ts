import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

const CHUNK = 64 * 1024;

/**
 * Reads a regular file of at most `maxBytes`, synchronously (certificates and keys, read while a
 * config is checked). A path to a device, a FIFO or a huge file is refused rather than read:
 * `/dev/zero` named by mistake must not hang or fill the daemon.
 */
export function readSmallFileSync(file: string, maxBytes: number): Buffer {
  // Non-blocking, so that opening a FIFO returns at once (and is then refused) instead of
  // waiting for a writer.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error('not a regular file');
    const chunks: Buffer[] = [];
    let total = 0;
    // Read to the end rather than to the size seen: a file still being written is read whole
    // or refused, never cut at a stale size.
    for (;;) {
      const chunk = Buffer.alloc(CHUNK);
      const n = readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new Error(`larger than the limit of ${maxBytes} bytes`);
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}
