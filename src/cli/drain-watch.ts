/**
 * Following a drain to its end through whatever the network allows: the event stream, reopened
 * when it drops, or polling when the stream cannot be had.
 */
import { ConnectionHistory } from '../fleet/drain/connection-history.js';
import { digestDrain } from '../fleet/drain/digest.js';
import { TERMINAL, type DrainState } from '../fleet/drain/model.js';
import { ApiError, ApiTransportError, type ApiClient, type DrainDigest, type DrainView } from './api-client.js';

const POLL_INTERVAL_MS = 1000;
/** Event stream attempts in a row that bring nothing before polling takes over. */
const STREAM_ATTEMPTS = 3;
/** How long polling rides out an unreachable API (a daemon restart) before giving up. */
const POLL_OUTAGE_MS = 30_000;

/**
 * Every state of a drain until it ends, each yielded once, as its summary with at most `rows`
 * node rows per phase (the nodes that hold it or failed first): from the event stream, which is
 * reopened when it drops, or, when it cannot be had (a proxy that buffers or strips it), by
 * polling GET /v1/drains/:id/summary every second. `notice` hears of each switch.
 */
export async function* watchDrainSummary(api: ApiClient, id: string, rows: number, notice: (message: string) => void): AsyncGenerator<DrainDigest> {
  const path = `/v1/drains/${encodeURIComponent(id)}`;
  for await (const drain of follow<DrainDigest | DrainView>(api, `${path}/events?nodes=${rows}`, `${path}/summary?nodes=${rows}`, notice)) {
    yield summaryOf(drain, rows);
  }
}

/** Starts a drain (`body`, a POST /v1/drains request) and answers with its summary of at most `rows` node rows per phase. */
export async function createDrain(api: ApiClient, body: unknown, rows: number): Promise<DrainDigest> {
  return summaryOf(await api.post<DrainDigest | DrainView>(`/v1/drains?nodes=${rows}`, body), rows);
}

/**
 * The drain as a summary with at most `rows` node rows per phase. A daemon older than `?nodes`
 * answers with the whole drain (its event stream too): it is summed up here as the daemon would.
 */
export function summaryOf(drain: DrainDigest | DrainView, rows: number): DrainDigest {
  const whole = drain.phases.some((p) => !('total' in p));
  return whole ? digestDrain(drain, new ConnectionHistory(), rows) : (drain as DrainDigest);
}

async function* follow<T extends { readonly state: DrainState }>(
  api: ApiClient,
  eventsPath: string,
  path: string,
  notice: (message: string) => void,
): AsyncGenerator<T> {
  let last = '';
  const fresh = (drain: T): boolean => {
    const json = JSON.stringify(drain);
    if (json === last) return false;
    last = json;
    return true;
  };

  let failures = 0;
  for (;;) {
    let received = false;
    let refused = false;
    let problem: string;
    try {
      for await (const e of api.events(eventsPath)) {
        if (e.event !== 'drain') continue;
        const drain = JSON.parse(e.data) as T;
        received = true;
        if (fresh(drain)) yield drain;
        if (TERMINAL.has(drain.state)) return;
      }
      problem = 'the event stream ended before the drain did';
    } catch (err) {
      problem = (err as Error).message;
      // A refusal will not change by asking again. Polling has the last word: it tells an
      // unknown drain from an event stream that only a proxy refuses.
      refused = err instanceof ApiError && err.status < 500;
    }
    failures = received ? 0 : failures + 1;
    if (refused || failures >= STREAM_ATTEMPTS) {
      notice(`${problem}; polling ${path} every ${POLL_INTERVAL_MS / 1000}s instead`);
      break;
    }
    notice(`${problem}; reconnecting`);
    await sleep(POLL_INTERVAL_MS);
  }

  let unreachableSince: number | undefined;
  for (;;) {
    try {
      const drain = await api.get<T>(path);
      unreachableSince = undefined;
      if (fresh(drain)) yield drain;
      if (TERMINAL.has(drain.state)) return;
    } catch (err) {
      if (!(err instanceof ApiTransportError) && !(err instanceof ApiError && err.status >= 500)) throw err;
      if (unreachableSince === undefined) {
        unreachableSince = Date.now();
        notice(`${(err as Error).message}; retrying for up to ${POLL_OUTAGE_MS / 1000}s`);
      } else if (Date.now() - unreachableSince > POLL_OUTAGE_MS) throw err;
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
