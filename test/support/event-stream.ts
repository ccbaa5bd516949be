/**
 * Reads a server-sent event stream (`/v1/fleet/events`) as a test would watch it: every event,
 * parsed, with the time it arrived, until `close`.
 */
export interface StreamedEvent {
  readonly event: string;
  readonly data: any;
  readonly at: number;
}

export interface EventStream {
  readonly contentType: string | null;
  /** Every event so far, in order. */
  readonly events: StreamedEvent[];
  close(): Promise<void>;
}

export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal, headers });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const events: StreamedEvent[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body!) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data), at: Date.now() });
      }
    }
  })().catch(() => undefined);
  return {
    contentType: res.headers.get('content-type'),
    events,
    async close() {
      controller.abort();
      await reading;
    },
  };
}
