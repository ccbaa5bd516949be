/**
 * Start-up errors end the process at once with one line naming the flag or file: nothing is
 * left half-started (xDS bound with no API, or the other way round).
 */
import assert from 'node:assert/strict';
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
