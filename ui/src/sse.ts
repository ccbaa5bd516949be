/**
 * Server-sent events read with fetch(), not EventSource, because EventSource cannot send the
 * Authorization header. The stream is reopened after any break, waiting longer each time
 * (1 s up to 15 s) until an event gets through again; a stream silent for longer than three of
 * the server's 15 s keep-alives counts as broken.
 */
import type { Api } from './api.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

export interface EventHandlers {
  event(name: string, data: unknown): void;
  state(state: LiveState, detail?: string): void;
}

const IDLE_MS = 45_000;
const MAX_BACKOFF_MS = 15_000;

export async function followEvents(api: Api, path: string, handlers: EventHandlers, signal: AbortSignal): Promise<void> {
  let backoff = 1000;
  handlers.state('connecting');
  while (!signal.aborted) {
    let detail = 'the stream ended';
    try {
      await readOnce(api, path, signal, (name, data) => {
        backoff = 1000;
        handlers.state('live');
        handlers.event(name, data);
      });
    } catch (err) {
      detail = (err as Error).message;
    }
    if (signal.aborted) return;
    handlers.state('reconnecting', detail);
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
  }
}

async function readOnce(api: Api, path: string, outer: AbortSignal, emit: (name: string, data: unknown) => void): Promise<void> {
  const inner = new AbortController();
  const abort = (): void => inner.abort();
  outer.addEventListener('abort', abort, { once: true });
  let idle = setTimeout(abort, IDLE_MS);
  try {
    const res = await api.stream(path, inner.signal);
    if (!res.body) throw new Error('the answer has no body');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    let event = '';
    let data: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      clearTimeout(idle);
      idle = setTimeout(abort, IDLE_MS);
      buffered += value;
      let nl: number;
      while ((nl = buffered.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(buffered.startsWith('\r\n', nl) ? nl + 2 : nl + 1);
        if (line === '') {
          if (data.length > 0) emit(event || 'message', JSON.parse(data.join('\n')));
          event = '';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
      }
    }
  } finally {
    clearTimeout(idle);
    outer.removeEventListener('abort', abort);
    inner.abort();
  }
}
