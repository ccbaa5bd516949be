/**
 * The state folder and the config file on a real filesystem that fails: remounted read-only (EROFS), then full
 * (ENOSPC, a small tmpfs). A change the disk refuses answers an error and changes nothing: the
 * drain in memory, the file on disk, the running config and what the node is sent stay as
 * they were; once the disk is back, the same request goes through. Needs root (mount); says
 * `skipped:` otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { drainApi } from '../support/drain-api.js';
import { demoConfig } from '../support/fleet-configs.js';
import { SimNode } from '../support/sim-node.js';
import { waitUntil } from '../support/wait.js';

const ALL = ['egress_http', 'ingress_http'];

/** A 1 MiB tmpfs of our own, or why there cannot be one here. */
async function mountTmpfs(): Promise<{ dir: string } | { skipped: string }> {
  if (process.getuid?.() !== 0) return { skipped: 'skipped: disk-fault tests need root (mount)' };
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    return { skipped: `skipped: cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})` };
  }
}

const remount = (dir: string, mode: 'ro' | 'rw'): void => void execFileSync('mount', ['-o', `remount,${mode}`, dir]);

/** Fills the filesystem up to its last byte; returns the filler's path. */
async function fill(dir: string): Promise<string> {
  const filler = path.join(dir, 'filler');
  const file = await open(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    await file.close();
  }
  return filler;
}

describe('a state folder whose disk fails', { timeout: 60_000 }, () => {
  let mount: { dir: string } | { skipped: string };
  let d: TestDaemon;
  let node: SimNode;
  const { api, drain } = drainApi(() => d.apiUrl);
  const listeners = (): string[] =>
    node.lds
      .at(-1)!
      .resources.map((r) => r.name)
      .sort();
  const drainFile = (id: string): Promise<string> => readFile(path.join((mount as { dir: string }).dir, 'state', 'drains', `${id}.json`), 'utf8');

  before(async () => {
    mount = await mountTmpfs();
    if ('skipped' in mount) return console.log(mount.skipped);
    // The config file too: with the file store it is the running config, written by PUT /v1/config.
    const configFile = path.join(mount.dir, 'drainplane.yaml');
    await writeFile(configFile, demoConfig());
    d = await startTestDaemon(demoConfig(), { stateDir: path.join(mount.dir, 'state'), configFile });
    node = SimNode.connect(d.xdsAddress, 'disk-1');
    await node.waitForLds((r) => r.resources.length === 2, 'both listeners');
  });
  after(async () => {
    if ('skipped' in mount) return;
    node.close();
    remount(mount.dir, 'rw');
    await d.close();
    execFileSync('umount', [mount.dir]);
    await rm(mount.dir, { recursive: true, force: true });
  });

  for (const fault of ['read-only', 'full'] as const) {
    test(`${fault}: a cancel and a config change are refused and change nothing; once the disk is back the retry works`, async (t) => {
      if ('skipped' in mount) return t.skip(mount.skipped);
      const { dir } = mount;
      // Measured by connections, which this node never reports: the drain runs until its deadline,
      // so the cancel below finds it running however late the fault comes (a step of a drain
      // measured by ACK could complete it first, or fail to store that on the faulty disk).
      const created = await drain({
        selector: { ids: ['disk-1'] },
        scope: 'ingress',
        method: 'remove',
        measure: 'connections',
        deadlineSeconds: 120,
      });
      await waitUntil('the node drained', () => listeners().length === 1);
      const onDisk = await drainFile(created.id);
      const config = (await api('GET', '/v1/config')).body;

      let filler: string | undefined;
      if (fault === 'read-only') remount(dir, 'ro');
      else filler = await fill(dir);
      try {
        const cancel = await api('POST', `/v1/drains/${created.id}/cancel`);
        assert.ok(cancel.status >= 500, `cancel answered ${cancel.status}`);
        assert.match(cancel.body.message, fault === 'read-only' ? /EROFS|read-only/ : /ENOSPC|no space/);
        const put = await fetch(`${d.apiUrl}/v1/config`, {
          method: 'PUT',
          headers: { 'content-type': 'application/yaml' },
          body: demoConfig({ clusters: ['app'] }),
        });
        assert.ok(put.status >= 500, `PUT /v1/config answered ${put.status}`);
        // Give a wrongly pushed change time to reach the node before looking.
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(d.daemon.drains.get(created.id)!.state, 'running', 'not cancelled in memory');
        assert.deepEqual(listeners(), ['egress_http'], 'the node stays drained');
        assert.deepEqual((await api('GET', '/v1/config')).body, config, 'the running config is unchanged');
      } finally {
        if (fault === 'read-only') remount(dir, 'rw');
        else await rm(filler!);
      }
      assert.equal(await drainFile(created.id), onDisk, 'the file is as it was');

      const retry = await api('POST', `/v1/drains/${created.id}/cancel`);
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      await waitUntil('its listeners back', () => listeners().length === 2);
      assert.deepEqual(listeners(), ALL);
      assert.match(await drainFile(created.id), new RegExp(`"id":"${created.id}"[^]*"state":"cancelled"`));
    });
  }
});
