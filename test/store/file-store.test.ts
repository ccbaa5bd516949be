import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { storeOptions } from '../../src/cli/store-flags.js';
import { parseStoreUrl } from '../../src/store/open-store.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { Daemon } from '../../src/daemon.js';
import pino from 'pino';
import { runCli, startCli } from '../support/cli.js';
import { demoConfig } from '../support/fleet-configs.js';

describe('the embedded file store', () => {
  let d: TestDaemon;
  const get = async (urlPath: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${d.apiUrl}${urlPath}`);
    return { status: res.status, body: await res.json() };
  };

  before(async () => {
    d = await startTestDaemon(demoConfig());
  });
  after(() => d.close());

  test('one replica: it leads, and the store is always available', async () => {
    const store = (await get('/v1/store')).body;
    assert.equal(store.kind, 'file');
    assert.match(store.location, /^file:\/\/.*state$/);
    assert.equal(store.leading, true);
    assert.equal(store.leader, store.replica);
    assert.equal(store.available, true);
  });

  test('config versions: the start, a reload and a PUT each record one; unchanged bytes record none', async () => {
    assert.equal((await get('/v1/config')).body.version, 1);
    await d.rewrite(demoConfig({ listenerTag: 'second' }));
    await d.rewrite(demoConfig({ listenerTag: 'second' }));
    const put = await fetch(`${d.apiUrl}/v1/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/yaml' },
      body: demoConfig({ listenerTag: 'third' }),
    });
    assert.equal(put.status, 200);
    const versions = (await get('/v1/config/versions')).body.versions as { version: number; origin: string; sha256: string }[];
    assert.deepEqual(
      versions.map((v) => [v.version, v.origin]),
      [
        [1, 'start'],
        [2, 'signal'],
        [3, 'api'],
      ],
    );
    assert.equal((await get('/v1/config')).body.version, 3);
    const third = (await get('/v1/config/versions/3')).body;
    assert.equal(third.text, demoConfig({ listenerTag: 'third' }));
    assert.equal(third.text, await readFile(d.configFile, 'utf8'), 'the config file is still the running config');
    const missing = await get('/v1/config/versions/99');
    assert.equal(missing.status, 404);
    assert.match(missing.body.message, /config version 99 is not kept/);
    const kept = await readdir(path.join(path.dirname(d.configFile), 'state', 'config-versions'));
    assert.deepEqual(kept.sort(), ['1.json', '2.json', '3.json'], 'kept in the state folder, a file each');
  });
});

describe('--store and its flags', () => {
  test('store URLs: file and etcd with one or more members; anything else is named', () => {
    assert.deepEqual(parseStoreUrl('file://.drainplane'), { kind: 'file', dir: '.drainplane' });
    assert.deepEqual(parseStoreUrl('etcd://10.0.0.1:2379,etcd-1.etcd:2379'), { kind: 'etcd', endpoints: ['10.0.0.1:2379', 'etcd-1.etcd:2379'] });
    assert.deepEqual(parseStoreUrl('etcd://10.0.0.1'), { error: '"10.0.0.1" is not host:port' });
    assert.match((parseStoreUrl('redis://x:1') as { error: string }).error, /expected file:\/\/DIR or etcd:\/\/HOST:PORT/);
  });

  test('the default is the state folder; etcd-only flags need an etcd store; bad values name their flag', () => {
    assert.deepEqual(storeOptions({}, '/var/lib/drainplane'), { url: 'file:///var/lib/drainplane' });
    assert.deepEqual(
      storeOptions({ store: 'etcd://127.0.0.1:2379', 'store-ca': 'ca.pem', 'store-lease-seconds': '5', 'replica-id': 'pod-0' }, '.d'),
      { url: 'etcd://127.0.0.1:2379', tls: { ca: 'ca.pem' }, leaseSeconds: 5, replica: 'pod-0' },
    );
    assert.throws(() => storeOptions({ 'store-ca': 'ca.pem' }, '.d'), /--store-ca needs an etcd store/);
    assert.throws(
      () => storeOptions({ store: 'etcd://h:1', 'store-lease-seconds': '1' }, '.d'),
      /--store-lease-seconds must be .* at least 2; got "1"/,
    );
    assert.throws(() => storeOptions({ store: 'etcd://h:1', 'store-prefix': '/x' }, '.d'), /--store-prefix must end with "\/"/);
    assert.throws(() => storeOptions({ store: 'etcd:/h' }, '.d'), /--store etcd:\/h: expected/);
  });
});

/** A config file and an empty state folder in a temporary folder, removed after `use`. */
async function inStateFolder(use: (folder: { stateDir: string; configFile: string }) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'drainplane-state-'));
  const stateDir = path.join(dir, 'state');
  const configFile = path.join(dir, 'drainplane.yaml');
  try {
    await mkdir(stateDir);
    await writeFile(configFile, demoConfig());
    await use({ stateDir, configFile });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a start removes the temporary files that writes of state files left when a crash cut them short', async () =>
  inStateFolder(async ({ stateDir, configFile }) => {
    await mkdir(path.join(stateDir, 'drains'));
    await mkdir(path.join(stateDir, 'config-versions'));
    await writeFile(path.join(stateDir, 'drains', '.drn_1.json.0123456789ab.tmp'), 'half');
    await writeFile(path.join(stateDir, 'config-versions', '.2.json.0123456789ab.tmp'), 'half');
    await writeFile(path.join(stateDir, '.drains.json.0123456789ab.tmp'), 'half');
    await writeFile(path.join(stateDir, '.config-versions.json.0123456789ab.tmp'), 'half');
    const daemon = await Daemon.start({
      configFile,
      stateDir,
      xdsHost: '127.0.0.1',
      xdsPort: 0,
      apiHost: '127.0.0.1',
      apiPort: 0,
      watchConfig: false,
      logger: pino({ level: 'silent' }),
    });
    await daemon.close();
    for (const dir of [stateDir, path.join(stateDir, 'drains'), path.join(stateDir, 'config-versions')]) {
      assert.deepEqual(
        (await readdir(dir)).filter((f) => f.endsWith('.tmp')),
        [],
        dir,
      );
    }
  }));

test('a drain file that cannot be read stops the start with one line naming the file, and nothing is left running', async () =>
  inStateFolder(async ({ stateDir, configFile }) => {
    const drainFile = path.join(stateDir, 'drains', 'drn_1.json');
    const legacyFile = path.join(stateDir, 'drains.json');
    await mkdir(path.dirname(drainFile));
    for (const [file, content, why] of [
      [drainFile, '{"format":1,"drain":{"id":"drn_1","spec":{', /not valid JSON/],
      [drainFile, '{"format":1,"drain":{"id":"drn_1"}}', /is not a drain/],
      [drainFile, '{"format":1,"drain":{"id":"drn_2","spec":{},"phases":[]}}', /holds drain "drn_2", not drn_1/],
      [drainFile, 'null', /not a drainplane drain/],
      [legacyFile, '{"format":1,"drains":[{"id":"drn_1","spec":{', /not valid JSON/],
      [legacyFile, '{"format":1,"drains":[{"id":"drn_1"}]}', /drains\[0\] is not a drain/],
      [legacyFile, '{"format":1,"drains":[{"id":"../x","spec":{},"phases":[]}]}', /drains\[0\] has an id drainplane does not make/],
      [legacyFile, 'null', /not a drainplane drain state/],
    ] as const) {
      await writeFile(file, content);
      const result = await runCli(['serve', '--config', configFile, '--state-dir', stateDir, '--xds-port', '0', '--api-port', '0']);
      assert.equal(result.code, 1, result.stderr);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.ok(lines[0]!.includes(file), lines[0]);
      assert.match(lines[0]!, why);
      if (file === legacyFile) await rm(legacyFile);
    }
  }));

test('one process per state folder: a second serve on it exits naming the holder; once that stops, or if it died, the folder is free', () =>
  inStateFolder(async ({ stateDir, configFile }) => {
    const args = ['serve', '--config', configFile, '--state-dir', stateDir, '--xds-port', '0', '--api-port', '0', '--xds-host', '127.0.0.1'];
    const started = (line: Record<string, unknown>): boolean => line['event'] === 'started';
    const first = startCli(args);
    await first.waitForLog(started);
    const second = await runCli(args);
    assert.equal(second.code, 1, second.stderr);
    assert.equal(second.stderr.trim().split('\n').length, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`${stateDir} is in use by drainplane pid ${first.child.pid}`));
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
    // Stopped: its lock went with it. Then a holder that died without releasing it.
    await writeFile(path.join(stateDir, 'drainplane.lock'), JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), since: '2026-01-01T00:00:00Z' }));
    const third = startCli(args);
    await third.waitForLog(started);
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
  }));
