import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { removeStaleTempFiles, writeFileAtomic } from '../../src/fs/atomic-write.js';

test('the temporary files of writes a crash cut short are removed at start-up; nothing else is', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-atomic-'));
  try {
    const file = path.join(dir, 'drains.json');
    await writeFileAtomic(file, 'committed');
    // What a kill between the temporary file's creation and the rename leaves behind.
    await writeFile(path.join(dir, '.drains.json.0123456789ab.tmp'), 'half');
    await writeFile(path.join(dir, '.drains.json.notours.tmp'), 'kept');
    await writeFile(path.join(dir, '.other.json.0123456789ab.tmp'), 'kept');
    assert.equal(await removeStaleTempFiles(file), 1);
    assert.deepEqual((await readdir(dir)).sort(), ['.drains.json.notours.tmp', '.other.json.0123456789ab.tmp', 'drains.json']);
    assert.equal(await readFile(file, 'utf8'), 'committed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
