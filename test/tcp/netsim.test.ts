// Tagged bytes through a lossy, duplicating, reordering path (test/tcp/netsim.ts). Whatever the schedule, the
// client receives the exact stream, and every segment carries only bytes of one tag and exactly that tag, hop
// limit and token flag both — first transmissions, timeouts, fast retransmits alike.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_HOP_LIMIT, simulate, type Chunk } from './netsim.ts';

const HOP_LIMIT = 2;

/** fast-check's counterexample (seed 1303313782): 19% loss each way backs the RTO off past 25 s with no fresh sample. */
const LONG_RECOVERY: [Chunk[], number, number, number] = [
  [
    { length: 5841, token: false, tokenHopLimit: 2 },
    { length: 4381, token: false, tokenHopLimit: 2 },
    { length: 1, token: false, tokenHopLimit: 2 },
  ],
  -1526300133,
  0.19430967024527493,
  0,
];

describe('tagged bytes through a lossy, duplicating, reordering path', () => {
  it('every byte arrives, every segment carries its bytes hop limit and token tag (property)', () => {
    let retransmissions = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            length: fc.integer({ min: 1, max: 6000 }),
            token: fc.boolean(),
            tokenHopLimit: fc.constantFrom(HOP_LIMIT, DEFAULT_HOP_LIMIT),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer(),
        fc.double({ min: 0, max: 0.25, noNaN: true }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        (chunks, seed, lossRate, duplicateRate) => {
          const outcome = simulate(chunks, seed, lossRate, duplicateRate);
          assert.equal(
            outcome.closed,
            undefined,
            `connection closed (${outcome.closed}) after ${outcome.delivered} bytes`,
          );
          retransmissions += outcome.retransmissions;
        },
      ),
      { numRuns: 150 },
    );
    // The schedules must have exercised recovery, or the property says nothing about retransmissions.
    assert.ok(retransmissions > 50, `only ${retransmissions} retransmissions across all runs`);
  });

  it('a recovery that outlasts the production send timeout completes when the simulation lifts it', () => {
    const outcome = simulate(...LONG_RECOVERY);
    assert.equal(outcome.closed, undefined);
    assert.equal(outcome.delivered, 5841 + 4381 + 1);
    assert.ok(outcome.retransmissions >= 8, `only ${outcome.retransmissions} retransmissions`);
  });

  it('with the production send timeout the same schedule ends in a send-timeout reset, never a silent stall', () => {
    // 30 s without SND.UNA advancing while the backed-off RTO is 25.6 s, then 51.2 s: the stack gives up by
    // design (TcpConfig.sendTimeoutMs), reports it, and leaves no connection without a timer on the way.
    const outcome = simulate(...LONG_RECOVERY, { maxRetransmissions: 40 });
    assert.equal(outcome.closed, 'send-timeout');
    assert.ok(outcome.delivered < 5841 + 4381 + 1);
  });
});
