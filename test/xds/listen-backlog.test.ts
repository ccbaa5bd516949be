/**
 * The xDS port's accept queue, as the kernel holds it: as deep as the kernel allows
 * (net.core.somaxconn), not Node's default of 511, so a fleet that reconnects at once is not
 * left waiting on SYN retransmits. (How much faster a storm of 10,000 connections is served
 * is measured in the fleet benchmark, not here.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { combineEvents } from '../../src/xds/events.js';
import { XdsServer } from '../../src/xds/server.js';
import { desiredStateOf } from '../support/desired-state.js';
import { demoConfig } from '../support/fleet-configs.js';
import { openSotwStream, TYPE } from '../support/ads-client.js';

const SOMAXCONN = '/proc/sys/net/core/somaxconn';

test('the xDS port listens with the deepest accept queue the kernel allows, and serves', async (t) => {
  if (!existsSync(SOMAXCONN) || !existsSync('/usr/bin/ss')) {
    t.diagnostic('skipped: needs Linux /proc and ss (iproute2)');
    return;
  }
  const { cache, desired } = desiredStateOf(demoConfig());
  const server = new XdsServer({ watcher: cache, events: combineEvents(desired.events) });
  const port = await server.listen('127.0.0.1', 0);
  try {
    // For a listening socket, ss shows the accept queue's limit as Send-Q.
    const line = execFileSync('/usr/bin/ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).trim();
    const sendQ = Number(line.split(/\s+/)[2]);
    // The kernel caps the queue asked for (65,535) at somaxconn.
    assert.equal(sendQ, Math.min(65_535, Number(readFileSync(SOMAXCONN, 'utf8').trim())), line);
    assert.ok(sendQ > 511, `${sendQ}: deeper than Node's default`);

    const s = openSotwStream(`127.0.0.1:${port}`);
    s.send({ type_url: TYPE.LDS });
    assert.equal((await s.next(TYPE.LDS)).resources.length, 2, 'connections on that socket are served');
    s.close();
  } finally {
    await server.close(100);
  }
});
