/**
 * Server-sent event streams: the reply is taken over from fastify and written as
 * text/event-stream. A comment every 15 s keeps proxies from closing an idle stream; a client
 * that stops reading is dropped rather than buffered for without end (it reconnects and starts
 * from a full state); and every stream ends when the server closes, which would otherwise wait
 * for them.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';

export interface EventStream {
  /** Sends one event; `json` is its data, already serialized (once for every stream it goes to). */
  send(event: string, json: string): void;
  end(): void;
}

const HEARTBEAT_MS = 15_000;
/** Bytes a stream may hold unsent before its client counts as gone. */
const MAX_BUFFERED = 8 * 1024 * 1024;

/**
 * Returns the opener of event streams for this plugin's routes; installs the hook that ends
 * them when the server closes. `onClose` runs once, whichever side ends a stream.
 */
export function eventStreams(app: FastifyInstance): (reply: FastifyReply, onClose: () => void) => EventStream {
  const open = new Set<EventStream>();
  app.addHook('preClose', async () => {
    for (const stream of open) stream.end();
  });
  return (reply, onClose) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    let closed = false;
    const stream: EventStream = {
      send(event, json) {
        if (closed) return;
        if (res.writableLength > MAX_BUFFERED) return stream.end();
        res.write(`event: ${event}\ndata: ${json}\n\n`);
      },
      end() {
        if (!closed) res.end();
        teardown();
      },
    };
    const teardown = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      open.delete(stream);
      onClose();
    };
    res.on('close', teardown);
    open.add(stream);
    return stream;
  };
}
