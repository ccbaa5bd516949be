/**
 * Several files of a folder changed as one: all of the change or none, whether a rename fails
 * after the change was made, a write fails before, or the process dies in between.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { replaceFiles } from '../../src/fs/atomic-write.js';
import { finishJournal, replaceFilesTogether } from '../../src/fs/journaled-write.js';
import { StoreOpenError } from '../../src/store/errors.js';
import { RecordFolder } from '../../src/store/file/record-folder.js';

async function inFolder(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-journal-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const text = (dir: string, name: string): Promise<string> => readFile(path.join(dir, name), 'utf8');

/** a.json and b.json at version 1, c.json to be removed; b.json cannot be replaced (a folder took its name). */
async function blockedChange(dir: string): Promise<void> {
  await replaceFiles(
    dir,
    new Map([
      ['a.json', 'a1'],
      ['c.json', 'c1'],
    ]),
  );
  await mkdir(path.join(dir, 'b.json'));
  await writeFile(path.join(dir, 'b.json', 'x'), '');
  await replaceFilesTogether(
    dir,
    new Map([
      ['a.json', 'a2'],
      ['b.json', 'b2'],
    ]),
    ['c.json'],
  );
}

test('files replaced and removed together leave no journal and no temporary file', () =>
  inFolder(async (dir) => {
    await replaceFiles(dir, new Map([['gone.json', 'old']]));
    await replaceFilesTogether(
      dir,
      new Map([
        ['a.json', 'A'],
        ['b.json', 'B'],
      ]),
      ['gone.json', 'never-there.json'],
    );
    assert.deepEqual((await readdir(dir)).sort(), ['a.json', 'b.json']);
    assert.equal(await text(dir, 'a.json'), 'A');
    assert.equal(await text(dir, 'b.json'), 'B');
  }));

test('a rename that fails once the change is made: the write resolves, and the next write finishes the change before its own', () =>
  inFolder(async (dir) => {
    await blockedChange(dir);
    // Made: the journal holds what is left to do.
    assert.equal(await text(dir, 'a.json'), 'a2');
    assert.ok((await readdir(dir)).includes('.journal'));
    // While b.json still cannot be replaced, the next write fails before it changes anything.
    await assert.rejects(replaceFilesTogether(dir, new Map([['d.json', 'd1']])), /EISDIR|ENOTEMPTY|EEXIST/);
    await assert.rejects(readFile(path.join(dir, 'd.json')), /ENOENT/);

    await rm(path.join(dir, 'b.json'), { recursive: true });
    await replaceFilesTogether(
      dir,
      new Map([
        ['a.json', 'a3'],
        ['d.json', 'd1'],
      ]),
    );
    assert.deepEqual((await readdir(dir)).sort(), ['a.json', 'b.json', 'd.json']);
    assert.equal(await text(dir, 'a.json'), 'a3', 'the later write comes after the one it finished');
    assert.equal(await text(dir, 'b.json'), 'b2');
  }));

test('a change cut short after it was made is finished when the folder is next read; finishing twice changes nothing', () =>
  inFolder(async (dir) => {
    await blockedChange(dir);
    // What a crash between the journal and the renames leaves, as far as the start can tell.
    await rm(path.join(dir, 'b.json'), { recursive: true });
    const journal = path.join(tmpdir(), `drainplane-journal-copy-${process.pid}`);
    await copyFile(path.join(dir, '.journal'), journal);
    try {
      const records = await new RecordFolder(dir).readAll();
      assert.deepEqual(Object.fromEntries(records), { a: 'a2', b: 'b2' });
      assert.deepEqual((await readdir(dir)).sort(), ['a.json', 'b.json'], 'no journal, no temporary file');

      // The same journal again (finished, then found once more): its renames are done already.
      await replaceFiles(dir, new Map([['a.json', 'a3']]));
      await copyFile(journal, path.join(dir, '.journal'));
      assert.equal(await finishJournal(dir), true);
      assert.equal(await text(dir, 'a.json'), 'a3');
      assert.equal(await finishJournal(dir), false);
    } finally {
      await rm(journal, { force: true });
    }
  }));

test('a write that fails before the change is made leaves the folder as it was', () =>
  inFolder(async (dir) => {
    await replaceFiles(dir, new Map([['a.json', 'a1']]));
    // The second file's temporary file cannot be created (no such folder).
    await assert.rejects(
      replaceFilesTogether(
        dir,
        new Map([
          ['a.json', 'a2'],
          ['missing/b.json', 'b2'],
        ]),
      ),
      /ENOENT/,
    );
    assert.deepEqual(await readdir(dir), ['a.json']);
    assert.equal(await text(dir, 'a.json'), 'a1');
  }));

test('a journal that is not one names its file and stops the start', () =>
  inFolder(async (dir) => {
    await writeFile(path.join(dir, '.journal'), '{"format":1,"renames":[["x","../escape.json"]],"removals":[]}');
    await assert.rejects(
      new RecordFolder(dir).readAll(),
      (err: Error) => err instanceof StoreOpenError && err.message.includes(path.join(dir, '.journal')) && /move it aside/.test(err.message),
    );
  }));

test('writes to one record folder asked for at once are made one after the other, each whole', () =>
  inFolder(async (dir) => {
    const folder = new RecordFolder(dir);
    await folder.readAll();
    await Promise.all([
      folder.write(
        new Map([
          ['a', 'a1'],
          ['b', 'b1'],
        ]),
      ),
      folder.write(
        new Map([
          ['a', 'a2'],
          ['c', 'c2'],
        ]),
        ['b'],
      ),
    ]);
    assert.deepEqual(Object.fromEntries(await new RecordFolder(dir).readAll()), { a: 'a2', c: 'c2' });
    assert.deepEqual((await readdir(dir)).sort(), ['a.json', 'c.json']);
  }));
