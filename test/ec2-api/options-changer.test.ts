// One path for option changes: pending with the new values, applied after the delay, all or nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetadataOptionsChanger } from '../../src/ec2-api/options-changer.ts';
import { DEFAULT_METADATA_OPTIONS, OptionsError, validateOptions, type MetadataOptions } from '../../src/imds/index.ts';

function harness() {
  let inForce: MetadataOptions = { ...DEFAULT_METADATA_OPTIONS };
  const timers: Array<{ run: () => void; delayMs: number }> = [];
  const changer = new MetadataOptionsChanger(
    { current: () => ({ ...inForce }), validate: validateOptions, apply: (next) => (inForce = next) },
    1500,
    (run, delayMs) => timers.push({ run, delayMs }),
  );
  return { changer, timers, inForce: () => inForce };
}

test('a change is pending with its new values, not yet in force, then applied', async () => {
  const { changer, timers, inForce } = harness();
  assert.equal(changer.view().state, 'applied');
  const pending = changer.modify({ httpTokens: 'required' });
  assert.equal(pending.state, 'pending');
  assert.equal(pending.options.httpTokens, 'required');
  assert.equal(inForce().httpTokens, 'optional');
  assert.equal(changer.view().state, 'pending');
  assert.equal(timers[0]?.delayMs, 1500);
  const applied = changer.whenApplied();
  timers[0]?.run();
  await applied;
  assert.deepEqual(changer.view(), {
    state: 'applied',
    options: { ...DEFAULT_METADATA_OPTIONS, httpTokens: 'required' },
  });
});

test('a second change while pending builds on the first and supersedes it', () => {
  const { changer, timers, inForce } = harness();
  changer.modify({ httpTokens: 'required' });
  changer.modify({ httpPutResponseHopLimit: 2 });
  timers[0]?.run(); // superseded: nothing
  assert.equal(inForce().httpTokens, 'optional');
  timers[1]?.run();
  assert.equal(inForce().httpTokens, 'required');
  assert.equal(inForce().httpPutResponseHopLimit, 2);
});

test('a bad value is refused before anything is pending', () => {
  const { changer, timers } = harness();
  assert.throws(() => changer.modify({ httpPutResponseHopLimit: 65 }), OptionsError);
  assert.equal(changer.view().state, 'applied');
  assert.equal(timers.length, 0);
});
