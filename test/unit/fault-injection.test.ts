import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { FaultInjector } from '../../src/jobs/fault-injection.js';

describe('FAULT_INJECTION (test-only)', () => {
  it('is inert when unset', async () => {
    assert.equal(loadConfig({ POD_NAME: 'pod-1' }).faultInjection, null);
    const started = Date.now();
    await FaultInjector.none.beforeTask('histogram', 2, 1);
    await FaultInjector.none.masterStep('stitch', 'job');
    FaultInjector.none.afterOutput('equalize', 1, 1);
    assert.ok(Date.now() - started < 50);
  });

  it('parses a spec and poisons, delays and slows exactly the named tasks', async () => {
    const spec = loadConfig({
      POD_NAME: 'pod-1',
      FAULT_INJECTION: JSON.stringify({
        delayMs: { equalize: 30 },
        slowTask: { task: 'histogram/0', ms: 30 },
        poisonTask: 'histogram/2',
      }),
    }).faultInjection;
    const faults = new FaultInjector(spec);
    await assert.rejects(faults.beforeTask('histogram', 2, 3), /poisoned/);
    await faults.beforeTask('histogram', 1, 1); // untouched
    let started = Date.now();
    await faults.beforeTask('histogram', 0, 1);
    assert.ok(Date.now() - started >= 25, 'the first attempt is slow');
    started = Date.now();
    await faults.beforeTask('histogram', 0, 2);
    assert.ok(Date.now() - started < 25, 'the retry is not');
    started = Date.now();
    await faults.beforeTask('equalize', 5, 2);
    assert.ok(Date.now() - started >= 25);
  });

  it('refuses a malformed spec with a sentence naming the variable', () => {
    for (const bad of ['{', '{"poisonTask":"nope"}', '{"unknown":1}']) {
      assert.throws(
        () => loadConfig({ POD_NAME: 'pod-1', FAULT_INJECTION: bad }),
        (err: Error & { code?: string }) =>
          err.code === 'BAD_CONFIG' && /FAULT_INJECTION/.test(err.message),
      );
    }
  });
});
