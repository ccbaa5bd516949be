/**
 * Start-up errors end the process at once with one line naming the flag or file: nothing is
 * left half-started (xDS bound with no API, or the other way round).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../support/cli.js';
import { demoConfig } from '../support/fleet-configs.js';

let dir: string;
let taken: Server;
let takenPort: number;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'drainplane-start-'));
  await writeFile(path.join(dir, 'drainplane.yaml'), demoConfig());
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as { port: number }).port;
});
after(async () => {
  taken.close();
  await rm(dir, { recursive: true, force: true });
});

for (const flag of ['--api-port', '--xds-port'] as const) {
  test(`serve with ${flag} in use exits 1 with one line naming the flag and the address`, async () => {
    const other = flag === '--api-port' ? '--xds-port' : '--api-port';
    const result = await runCli([
      'serve',
      '--config',
      path.join(dir, 'drainplane.yaml'),
      '--state-dir',
      path.join(dir, `state${flag}`),
      '--xds-host',
      '127.0.0.1',
      flag,
      String(takenPort),
      other,
      '0',
    ]);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.ok(lines[0]!.includes(`${flag}: cannot listen on 127.0.0.1:${takenPort}`), lines[0]);
  });
}

test('a stopped daemon ends its process even when a library left a handle open', async () => {
  const module = new URL('../../src/cli/daemon-start.js', import.meta.url).href;
  // A reconnect timer that nothing will clear, as a store client left behind once had.
  const script = `import { exitAfterStop } from ${JSON.stringify(module)}; setInterval(() => {}, 1000); exitAfterStop(3, 200);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(guard);
  assert.equal(signal, null, 'ended by itself, not killed after 10 s');
  assert.equal(code, 3, 'the code the daemon stopped with');
});
