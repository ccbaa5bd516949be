/**
 * The file store's state folder: a file per drain and per config version, so that a change
 * writes what it changes and not the kept history; the earlier layout (one file for all
 * drains, one for all versions) is moved at the first start on it.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { Drain } from '../../src/fleet/drain/model.js';
import { FileConfigHistory } from '../../src/store/file/config-history.js';
import { FileDrainStore } from '../../src/store/file/drain-files.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'drainplane-state-folder-'));
});
afterEach(() => rm(stateDir, { recursive: true, force: true }));

/** A drain as far as the store looks at it, with `nodes` node entries to give it a size. */
function drain(id: string, createdAt: string, nodes = 1, state = 'completed'): Drain {
  const entries = Array.from({ length: nodes }, (_, i) => ({ nodeId: `node-${i}`, state: 'drained' }));
  return { id, createdAt, state, spec: { selector: {} }, phases: [{ nodes: entries }] } as unknown as Drain;
}

const drainFile = (id: string): string => path.join(stateDir, 'drains', `${id}.json`);
const fileState = async (id: string): Promise<string> => {
  const s = await stat(drainFile(id));
  return `${s.ino}:${s.mtimeMs}`;
};

/**
 * The earlier layout's file, once moved, is a marker: a format the earlier releases refuse (they
 * read format 1 alone and stop naming the file), so a rolled-back drainplane does not start
 * without the drains or versions.
 */
async function assertMovedMarker(file: string, movedTo: string): Promise<void> {
  const marker = JSON.parse(await readFile(file, 'utf8')) as { format: unknown; movedTo: unknown };
  assert.notEqual(marker.format, 1, 'not a format an earlier release reads');
  assert.equal(marker.movedTo, movedTo);
}

test('a save writes the drains it is about: the kept history is not written again, however large', async () => {
  const store = new FileDrainStore(stateDir);
  assert.deepEqual(await store.load(), []);
  const history = Array.from({ length: 30 }, (_, i) => drain(`drn_h${i}`, `2026-12-01T00:00:${String(i).padStart(2, '0')}Z`, 2000));
  await store.save(history);
  const before = await Promise.all(history.map((d) => fileState(d.id)));

  const running = drain('drn_now', '2026-12-02T00:00:00Z', 2000, 'running');
  await store.save([...history, running], { changed: [running] });
  const next = { ...running, state: 'completed' } as Drain;
  await store.save([...history, next], { changed: [next] });
  assert.deepEqual(await Promise.all(history.map((d) => fileState(d.id))), before, 'no kept drain was rewritten');
  assert.match(await readFile(drainFile('drn_now'), 'utf8'), /"id":"drn_now"[^]*"state":"completed"/);

  await store.save(history.slice(1).concat(next), { changed: [], removed: [history[0]!] });
  assert.equal((await readdir(path.join(stateDir, 'drains'))).length, 30, 'the forgotten drain has no file');

  const loaded = await new FileDrainStore(stateDir).load();
  assert.deepEqual(
    loaded.map((d) => [d.id, d.state]),
    [...history.slice(1).map((d) => [d.id, 'completed']), ['drn_now', 'completed']],
    'read back in the order they were created',
  );
});

test('saves asked for while one is written are folded into the next write; a failed write changes no file, and the retry works', async () => {
  const store = new FileDrainStore(stateDir);
  await store.load();
  const a = drain('drn_a', '2026-12-01T00:00:00Z');
  const b = drain('drn_b', '2026-12-01T00:00:01Z');
  await Promise.all([
    store.save([a], { changed: [a] }),
    store.save([{ ...a, state: 'cancelled' }, b], { changed: [{ ...a, state: 'cancelled' }] }),
    store.save([{ ...a, state: 'cancelled' }, b], { changed: [b] }),
  ]);
  assert.deepEqual(
    (await new FileDrainStore(stateDir).load()).map((d) => [d.id, d.state]),
    [
      ['drn_a', 'cancelled'],
      ['drn_b', 'completed'],
    ],
  );

  // The folder replaced by a file: every write into it fails (as root, permissions would not).
  const folder = path.join(stateDir, 'drains');
  const kept = await readFile(drainFile('drn_a'), 'utf8');
  await rename(folder, `${folder}-aside`);
  await writeFile(folder, 'not a folder');
  const c = drain('drn_c', '2026-12-01T00:00:02Z');
  await assert.rejects(store.save([a, b, c], { changed: [{ ...a, state: 'running' }, c] }), /ENOTDIR|EEXIST|not a directory/);
  await rm(folder);
  await rename(`${folder}-aside`, folder);
  assert.equal(await readFile(drainFile('drn_a'), 'utf8'), kept, 'drn_a is as it was');
  assert.deepEqual((await readdir(folder)).sort(), ['drn_a.json', 'drn_b.json'], 'no new file, no temporary file left');

  await store.save([a, b, c], { changed: [c] });
  assert.deepEqual((await readdir(folder)).sort(), ['drn_a.json', 'drn_b.json', 'drn_c.json']);
});

/**
 * A store holding drn_a (a0), and a change that will fail after drn_a's file was replaced: a0
 * cancelled (a1) and a new drn_c, whose file name is taken by a folder with a file in it, so
 * that renaming over it fails. `unblock` removes that folder.
 */
/**
 * A store whose next write reaches the disk and then fails, as when the folder's sync fails
 * after the renames: the caller is told the change failed, while its files are new.
 */
async function failingChange(): Promise<{ store: FileDrainStore; a0: Drain; a1: Drain; c: Drain }> {
  const store = new FileDrainStore(stateDir);
  await store.load();
  const a0 = drain('drn_a', '2026-12-01T00:00:01Z');
  await store.save([a0], { changed: [a0] });
  const write = store.folder.write.bind(store.folder);
  store.folder.write = async (records, removed) => {
    store.folder.write = write;
    await write(records, removed);
    throw new Error('EIO: the folder could not be synced');
  };
  return { store, a0, a1: { ...a0, state: 'cancelled' }, c: drain('drn_c', '2026-12-01T00:00:02Z') };
}

const loadedStates = async (): Promise<string[][]> => (await new FileDrainStore(stateDir).load()).map((d) => [d.id, d.state]);

test('a write that fails after its files were replaced is undone by the next save, from the drains the caller holds', async () => {
  const { store, a0, a1, c } = await failingChange();
  await assert.rejects(store.save([a1, c], { changed: [a1, c] }), /EIO/);
  assert.match(await readFile(drainFile('drn_a'), 'utf8'), /"state":"cancelled"/, 'drn_a was replaced before the failure');
  // The caller kept a0 (its change failed) and never had c: its next save, about another drain, puts drn_a back.
  const b = drain('drn_b', '2026-12-01T00:00:03Z');
  await store.save([a0, b], { changed: [b] });
  assert.deepEqual(await loadedStates(), [
    ['drn_a', 'completed'],
    ['drn_b', 'completed'],
  ]);
});

test('a save queued while a write fails, with a text decided before the failure, does not make that drain sure again', async () => {
  const { store, a0, a1, c } = await failingChange();
  const failing = store.save([a1, c], { changed: [a1, c] });
  await Promise.resolve();
  // As a node joining the drain being changed saves the change in flight: the next write.
  const queued = store.save([a1], { changed: [a1] });
  await assert.rejects(failing, /EIO/);
  await queued;
  assert.match(await readFile(drainFile('drn_a'), 'utf8'), /"state":"cancelled"/);
  // The change failed: the caller still holds a0, which its next save writes.
  await store.save([a0], { changed: [] });
  assert.deepEqual(await loadedStates(), [['drn_a', 'completed']]);
});

test('the earlier layout (drains.json) is moved into the folder at the first start; a move cut short is made again from it', async () => {
  const legacy = [drain('drn_old1', '2026-11-01T00:00:00Z'), drain('drn_old2', '2026-11-02T00:00:00Z', 3, 'running')];
  await writeFile(path.join(stateDir, 'drains.json'), `${JSON.stringify({ format: 1, drains: legacy })}\n`);
  // What a start cut short during the move leaves: part of the folder.
  await mkdir(path.join(stateDir, 'drains'));
  await writeFile(drainFile('drn_old1'), `${JSON.stringify({ format: 1, drain: legacy[0] })}\n`);

  const loaded = await new FileDrainStore(stateDir).load();
  assert.deepEqual(loaded, legacy);
  assert.deepEqual((await readdir(path.join(stateDir, 'drains'))).sort(), ['drn_old1.json', 'drn_old2.json']);
  await assertMovedMarker(path.join(stateDir, 'drains.json'), 'drains/');
  assert.deepEqual(await new FileDrainStore(stateDir).load(), legacy, 'and read from the folder after that');
});

test('drains in both layouts (an earlier release ran on the folder after the move) stop the start naming both; nothing is removed', async () => {
  // Moved once; then an earlier release started (the marker set aside) and kept its own drains.json.
  const moved = drain('drn_moved', '2026-11-01T00:00:00Z');
  await mkdir(path.join(stateDir, 'drains'));
  await writeFile(drainFile('drn_moved'), `${JSON.stringify({ format: 1, drain: moved })}\n`);
  const later = [drain('drn_later', '2026-11-05T00:00:00Z')];
  const legacyText = `${JSON.stringify({ format: 1, drains: later })}\n`;
  await writeFile(path.join(stateDir, 'drains.json'), legacyText);

  await assert.rejects(new FileDrainStore(stateDir).load(), (err: Error) => {
    assert.match(err.message, /drains\.json and .*drains\/ hold different records \(drn_moved in drains\/\)/);
    assert.match(err.message, /move one aside: drains\.json to keep drains\/, or drains\/ to start from drains\.json/);
    return true;
  });
  assert.deepEqual(await readdir(path.join(stateDir, 'drains')), ['drn_moved.json']);
  assert.equal(await readFile(path.join(stateDir, 'drains.json'), 'utf8'), legacyText);
});

test('config versions: a file per version, the last 20 kept; the earlier layout is moved; a crash between storing and trimming is trimmed later', async () => {
  const history = new FileConfigHistory(stateDir, 'r1');
  for (let v = 1; v <= 25; v++) assert.equal((await history.put(`v: ${v}\n`, v === 1 ? undefined : v - 1, 'api')) !== 'conflict', true);
  const folder = path.join(stateDir, 'config-versions');
  const files = (await readdir(folder)).map((f) => Number(f.slice(0, -'.json'.length))).sort((a, b) => a - b);
  assert.deepEqual(
    files,
    Array.from({ length: 20 }, (_, i) => i + 6),
  );
  assert.equal(await history.put('late\n', 24, 'api'), 'conflict');

  // What a crash between the new version's rename and the oldest one's removal leaves: 21 files.
  await writeFile(path.join(folder, '5.json'), `${JSON.stringify({ format: 1, config: { version: 5, text: 'v: 5\n' } })}\n`);
  const reopened = new FileConfigHistory(stateDir, 'r1');
  assert.deepEqual(
    (await reopened.versions()).map((v) => v.version),
    Array.from({ length: 20 }, (_, i) => i + 6),
  );
  assert.equal((await reopened.current())?.text, 'v: 25\n');
  await reopened.put('v: 26\n', 25, 'api');
  assert.equal((await readdir(folder)).length, 20);

  // The earlier layout: one file with every version.
  await rm(folder, { recursive: true });
  const versions = [1, 2].map((version) => ({
    version,
    text: `old: ${version}\n`,
    sha256: 'x',
    at: '2026-11-01T00:00:00Z',
    origin: 'start',
    replica: 'r0',
  }));
  await writeFile(path.join(stateDir, 'config-versions.json'), `${JSON.stringify({ format: 1, versions })}\n`);
  const moved = new FileConfigHistory(stateDir, 'r1');
  assert.deepEqual(await moved.version(2), versions[1]);
  assert.deepEqual((await readdir(folder)).sort(), ['1.json', '2.json']);
  await assertMovedMarker(path.join(stateDir, 'config-versions.json'), 'config-versions/');
  assert.deepEqual(
    (await new FileConfigHistory(stateDir, 'r1').versions()).map((v) => v.version),
    [1, 2],
  );
  const third = await moved.put('new\n', 2, 'api');
  assert.equal(third !== 'conflict' && third.version, 3);
});
