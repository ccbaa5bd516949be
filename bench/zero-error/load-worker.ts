/** Worker thread entry of the client load: serves LoadThread's requests with an EchoLoad. */
import { parentPort, workerData } from 'node:worker_threads';
import { EchoLoad, type LoadOptions, type LoadRun, type StreamOutcome } from './load.js';
import type { LoadRequest, LoadResponse, OpenedStreams } from './load-thread.js';

const port = parentPort;
if (!port) throw new Error('load-worker.js runs as a worker thread of LoadThread');

const load = new EchoLoad(workerData as LoadOptions);
let current: LoadRun | undefined;
let running = false;
const batches = new Map<number, Promise<StreamOutcome[]>>();

const currentRun = (): LoadRun => {
  if (!current) throw new Error('no load run was started');
  return current;
};

async function serve(req: LoadRequest): Promise<unknown> {
  switch (req.op) {
    case 'connect':
      return load.connect(req.timeoutMs);
    case 'run': {
      if (running) throw new Error('a load run is already going on');
      running = true;
      current = load.run(req.run);
      return current.done.finally(() => (running = false));
    }
    case 'when-sent':
      return currentRun().whenSent(req.n);
    case 'release':
      return currentRun().release();
    case 'open-streams': {
      const streams = load.streams(req.count, req.replies, req.intervalMs);
      const batch = batches.size + 1;
      batches.set(batch, Promise.all(streams.map((s) => s.outcome)));
      const firsts = await Promise.allSettled(streams.map((s) => s.first));
      return {
        batch,
        nodes: firsts.map((f) => (f.status === 'fulfilled' ? f.value.node : undefined)),
      } satisfies OpenedStreams;
    }
    case 'stream-outcomes': {
      const outcomes = batches.get(req.batch);
      if (!outcomes) throw new Error(`no stream batch ${req.batch}`);
      return outcomes;
    }
    case 'close':
      load.close();
      return undefined;
  }
}

port.on('message', (req: LoadRequest) => {
  serve(req).then(
    (value) => port.postMessage({ id: req.id, ok: true, value } satisfies LoadResponse),
    (err: unknown) => {
      const error = err instanceof Error ? err.message : String(err);
      port.postMessage({ id: req.id, ok: false, error } satisfies LoadResponse);
    },
  );
});
