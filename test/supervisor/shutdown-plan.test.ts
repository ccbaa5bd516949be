import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkDrainFlags, withDrainFlags } from '../../src/supervisor/envoy-args.js';
import { egressTimes, envoyDrainTimeSeconds, planShutdown } from '../../src/supervisor/shutdown-plan.js';

describe('the shutdown plan', () => {
  test('defaults split a 30 s grace period: 5 s propagation, ingress 14 s, egress 7 s, 2 s stop, 2 s margin', () => {
    const plan = planShutdown({ graceSeconds: 30 });
    assert.deepEqual([plan.propagationSeconds, plan.ingressSeconds, plan.egressSeconds, plan.envoyStopSeconds, plan.marginSeconds], [5, 14, 7, 2, 2]);
    assert.deepEqual(plan.warnings, []);
    assert.equal(envoyDrainTimeSeconds(plan), 26);
  });

  test('every phase, dependents included, fits the grace period', () => {
    for (const grace of [5, 10, 30, 60, 300]) {
      const plan = planShutdown({ graceSeconds: grace, dependentStopSeconds: [1, 1] });
      const total = plan.propagationSeconds + plan.ingressSeconds + plan.egressSeconds + plan.envoyStopSeconds + plan.marginSeconds + 2;
      assert.ok(total <= grace + 1e-6, `grace ${grace}: ${total}`);
    }
  });

  test('phases that do not fit are shortened in proportion, with a warning that gives the numbers', () => {
    const plan = planShutdown({ graceSeconds: 20, propagationSeconds: 10, ingressSeconds: 20, egressSeconds: 10 });
    assert.equal(plan.warnings.length, 1);
    assert.match(plan.warnings[0]!, /leaves 16s, but propagation 10s \+ ingress 20s \+ egress 10s = 40s; each is shortened to 40%/);
    assert.deepEqual([plan.propagationSeconds, plan.ingressSeconds, plan.egressSeconds], [4, 8, 4]);
  });

  test('egress may wait for the app for its phase less 1 s kept for the removal', () => {
    assert.deepEqual(egressTimes(planShutdown({ graceSeconds: 30 })), { waitSeconds: 6, removalSeconds: 1 });
    const short = planShutdown({ graceSeconds: 30, egressSeconds: 1 });
    assert.deepEqual(egressTimes(short), { waitSeconds: 0.5, removalSeconds: 0.5 }, 'a short egress phase keeps half for the removal');
  });
});

describe("Envoy's drain flags", () => {
  test('are added from the plan when not given', () => {
    assert.deepEqual(withDrainFlags(['envoy', '-c', 'b.yaml'], 26), {
      argv: ['envoy', '-c', 'b.yaml', '--drain-time-s', '26', '--drain-strategy', 'immediate'],
      warnings: [],
    });
  });

  test('given values are kept, with a warning when they work against the plan', () => {
    const r = withDrainFlags(['envoy', '--drain-time-s', '5', '--drain-strategy', 'gradual'], 26);
    assert.deepEqual(r.argv, ['envoy', '--drain-time-s', '5', '--drain-strategy', 'gradual']);
    assert.equal(r.warnings.length, 2);
    assert.match(r.warnings[0]!, /--drain-time-s 5 is shorter than .* \(26s\)/);
    assert.match(r.warnings[1]!, /--drain-strategy gradual/);
  });

  test('forms Envoy refuses to start with are refused up front: flag=value, and a flag given twice', () => {
    assert.throws(
      () => checkDrainFlags(['envoy', '--drain-time-s=5']),
      /does not take --drain-time-s=5: write it as two arguments, --drain-time-s 5/,
    );
    assert.throws(() => checkDrainFlags(['envoy', '--drain-strategy', 'immediate', '--drain-strategy', 'gradual']), /--drain-strategy given twice/);
    checkDrainFlags(['envoy', '-c', 'b.yaml', '--drain-time-s', '5', '--drain-strategy', 'immediate']);
  });
});
