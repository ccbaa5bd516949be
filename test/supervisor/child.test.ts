/**
 * `drainplane run` owns its Envoy's process group: an Envoy started by a wrapper script that
 * does not `exec` it is stopped with the wrapper, and nothing of the group outlives it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Child } from '../../src/supervisor/child.js';
import { waitUntil } from '../support/wait.js';

/** Running: it exists and is not a zombie waiting for an init that does not reap. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The state is the field after the command name, which is in parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** A wrapper that starts a long-lived process ("Envoy") without exec, and waits for it. */
async function wrapper(dir: string): Promise<{ child: Child; inner: number }> {
  const pidFile = path.join(dir, 'inner.pid');
  const child = new Child({ name: 'envoy', command: ['sh', '-c', `sleep 60 & echo $! > ${pidFile}; wait`] });
  let inner = 0;
  await waitUntil('the wrapped process to start', async () => {
    inner = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    return inner > 0;
  });
  return { child, inner };
}

test('stopping a wrapper that did not exec stops what it wrapped, and its output closes', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-child-'));
  try {
    const { child, inner } = await wrapper(dir);
    assert.ok(alive(inner));
    const exit = await child.stop(5_000);
    assert.equal(exit.signal, 'SIGTERM', 'the wrapper stopped on SIGTERM, not after the SIGKILL bound');
    await waitUntil('the wrapped process to be gone', () => !alive(inner));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('when the child exits by itself, what is left of its group is stopped', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-child-'));
  try {
    const { child, inner } = await wrapper(dir);
    // The wrapper dies alone (as if it crashed); its child would be an orphan holding the output.
    process.kill(child.pid!, 'SIGKILL');
    await child.exited;
    await waitUntil('the orphan to be gone', () => !alive(inner));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
