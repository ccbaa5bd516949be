import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XDS_LIMIT_FLAGS, xdsLimitOptions } from '../../src/cli/xds-limit-flags.js';
import { CliError } from '../../src/cli/errors.js';

test('each memory bound of the xDS port has a serve flag that sets its limit', () => {
  assert.deepEqual(
    xdsLimitOptions({
      'xds-max-total-queued-bytes': '1000',
      'xds-max-node-metadata-bytes': '4096',
      'xds-max-nack-message-bytes': '512',
      'xds-max-selection-cache-bytes': '0',
      'xds-max-parked-bytes': '2048',
      'xds-max-disconnected-nodes': '7',
      'xds-max-disconnected-bytes': '9999',
      'xds-max-log-lines-per-node': '0',
      'xds-max-log-lines-per-event': '50',
    }),
    {
      maxTotalQueuedBytes: 1000,
      maxNodeMetadataBytes: 4096,
      maxNackMessageBytes: 512,
      maxSelectionCacheBytes: 0,
      maxParkedBytes: 2048,
      maxDisconnectedNodes: 7,
      maxDisconnectedNodeBytes: 9999,
      maxLogLinesPerNode: 0,
      maxLogLinesPerEvent: 50,
    },
  );
  assert.equal(Object.keys(XDS_LIMIT_FLAGS).length, 9);
  assert.deepEqual(xdsLimitOptions({}), {}, 'flags left out keep the defaults');
});

test('a limit flag that is not a whole number in range is refused, naming the flag', () => {
  assert.throws(
    () => xdsLimitOptions({ 'xds-max-total-queued-bytes': '1.5' }),
    (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.match(err.message, /--xds-max-total-queued-bytes must be a whole number of at least 1, got "1\.5"/);
      return true;
    },
  );
  assert.throws(() => xdsLimitOptions({ 'xds-max-node-metadata-bytes': '100' }), /at least 256/);
});
