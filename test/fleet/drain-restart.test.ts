/**
 * Restart safety: drainplane is killed (SIGKILL) in the middle of a drain and started again on
 * the same state folder. Reconnecting nodes must get their drained listener set, never the
 * full one, and the drain must carry on to completion.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { TYPE } from '../support/ads-client.js';
import { serveArgs, startCli, type CliProcess } from '../support/cli.js';
import { demoConfig } from '../support/fleet-configs.js';
import { SimNode } from '../support/sim-node.js';
import { waitUntil } from '../support/wait.js';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function serve(dir: string): Promise<{ proc: CliProcess; xds: string; api: string }> {
  const proc = startCli(serveArgs(path.join(dir, 'fleet.yaml'), path.join(dir, 'state')));
  cleanup.push(() => proc.child.kill('SIGKILL'));
  const started = await proc.waitForLog((l) => l['event'] === 'started');
  return { proc, xds: `127.0.0.1:${started['xdsPort'] as number}`, api: `http://127.0.0.1:${started['apiPort'] as number}` };
}

test('kill -9 mid-drain, restart on the same state: no drained listener comes back, and the drain completes', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-restart-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'fleet.yaml'), demoConfig());

  const first = await serve(dir);
  const node = SimNode.connect(first.xds, 'envoy-a');
  cleanup.push(() => node.close());
  await node.waitForLds((r) => r.resources.length === 2, 'with both listeners');
  const res = await fetch(`${first.api}/v1/drains`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ selector: { cluster: 'test-cluster' }, scope: 'ingress', deadlineSeconds: 60 }),
  });
  assert.equal(res.status, 201);
  const { id } = (await res.json()) as { id: string };
  const drained = await node.waitForLds((r) => r.resources.length === 1, 'without ingress');
  await first.proc.waitForLog((l) => l['event'] === 'ack' && l['version'] === drained.version_info);

  first.proc.child.kill('SIGKILL');
  await first.proc.exited;
  node.close();

  const second = await serve(dir);
  // Envoy reconnects reporting the drained version it runs: nothing needs sending.
  const back = SimNode.connect(second.xds, 'envoy-a', { versionInfo: drained.version_info });
  cleanup.push(() => back.close());
  await back.stream.expectSilence(800, TYPE.LDS);
  // An Envoy that restarted (and has nothing) is sent the drained set, not the full one.
  const fresh = SimNode.connect(second.xds, 'envoy-a', { versionInfo: '' });
  cleanup.push(() => fresh.close());
  const firstResponse = await fresh.waitForLds(() => true, 'at all');
  assert.deepEqual(
    firstResponse.resources.map((r) => r.name),
    ['egress_http'],
  );
  assert.equal(firstResponse.version_info, drained.version_info);

  const state = async () => ((await (await fetch(`${second.api}/v1/drains/${id}`)).json()) as { state: string }).state;
  assert.equal(await state(), 'running');
  back.reportConnections({ '127.0.0.1_10000': 0 });
  await waitUntil('the drain to complete after the restart', async () => (await state()) === 'completed', 5_000, { intervalMs: 100 });
});
