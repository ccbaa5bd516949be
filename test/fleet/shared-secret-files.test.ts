/**
 * Secret files shared between replicas: what each replica serves when the files on their disks
 * differ (a Secret volume updated pod by pod, or not mounted at all).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { SecretFileStore, SharedSecretFile } from '../../src/fleet/ports/secret-file-store.js';
import type { SecretFiles } from '../../src/fleet/secrets/secret-files.js';
import { SharedSecretFiles } from '../../src/fleet/secrets/shared-secret-files.js';

/** One store for every replica, as etcd is; `failing` makes writes fail. */
class MemoryStore implements SecretFileStore {
  readonly files = new Map<string, SharedSecretFile>();
  readonly #listeners = new Set<(file: SharedSecretFile) => void>();
  failing = false;

  all(): Promise<SharedSecretFile[]> {
    return Promise.resolve([...this.files.values()]);
  }

  put(path: string, data: Buffer): Promise<void> {
    if (this.failing) return Promise.reject(new Error('etcd unavailable'));
    const file = { path, data, sha256: createHash('sha256').update(data).digest('hex'), replica: 'r', at: new Date().toISOString() };
    this.files.set(path, file);
    for (const listener of this.#listeners) listener(file);
    return Promise.resolve();
  }

  watch(listener: (file: SharedSecretFile) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** A replica's own disk. */
function disk(files: Record<string, string>): SecretFiles & { files: Record<string, string> } {
  return {
    files,
    resolve: (file) => `/mnt/${file}`,
    read(file) {
      const text = files[file];
      if (text === undefined) throw new Error('ENOENT: no such file or directory');
      return Buffer.from(text);
    },
  };
}

const silent = pino({ level: 'silent' });
const read = (files: SecretFiles, name: string): string => files.read(name).toString();

describe('secret files shared between replicas', () => {
  test('a replica publishes what it reads; another serves it while its own file is older or missing', async () => {
    const store = new MemoryStore();
    const diskA = disk({ 'tls.crt': 'new' });
    const a = await SharedSecretFiles.open(diskA, store, silent);
    assert.equal(read(a, 'tls.crt'), 'new');
    await a.publish();
    assert.equal(store.files.get('tls.crt')?.data.toString(), 'new');

    // b starts later, its own file not updated yet: what it reads at start is its own (at
    // start Kubernetes mounts the current Secret), published over a's...
    const b = await SharedSecretFiles.open(disk({ 'tls.crt': 'old' }), store, silent);
    assert.equal(read(b, 'tls.crt'), 'old');
    await b.publish();
    // ...and a serves it too, its own file unchanged since it last read it.
    assert.equal(read(a, 'tls.crt'), 'old');

    // a's file changes on its disk: a publishes it, and both serve it.
    diskA.files['tls.crt'] = 'newer';
    assert.equal(read(a, 'tls.crt'), 'newer');
    await a.publish();
    assert.equal(read(b, 'tls.crt'), 'newer');

    // c has no such file: it serves what the others published, and fails only without it.
    const c = await SharedSecretFiles.open(disk({}), store, silent);
    assert.equal(read(c, 'tls.crt'), 'newer');
    assert.throws(() => c.read('other.key'), /ENOENT/);
  });

  test("another replica's change to a served file calls the followers; others do not", async () => {
    const store = new MemoryStore();
    const a = await SharedSecretFiles.open(disk({ 'tls.crt': 'one' }), store, silent);
    const b = await SharedSecretFiles.open(disk({ 'tls.crt': 'one', 'unused.key': 'k' }), store, silent);
    let calls = 0;
    b.follow(() => calls++);
    read(b, 'tls.crt');
    await store.put('elsewhere.crt', Buffer.from('x'));
    read(a, 'tls.crt');
    await a.publish(); // the same bytes as b serves: no change
    assert.equal(calls, 0);
    await store.put('tls.crt', Buffer.from('two'));
    assert.equal(calls, 1);
    assert.equal(read(b, 'tls.crt'), 'two');
  });

  test('a publish that fails is served here and tried again at the next publish', async () => {
    const store = new MemoryStore();
    const a = await SharedSecretFiles.open(disk({ 'tls.crt': 'one' }), store, silent);
    read(a, 'tls.crt');
    store.failing = true;
    await a.publish();
    assert.equal(store.files.size, 0);
    assert.equal(read(a, 'tls.crt'), 'one');
    store.failing = false;
    await a.publish();
    assert.equal(store.files.get('tls.crt')?.data.toString(), 'one');
  });
});
