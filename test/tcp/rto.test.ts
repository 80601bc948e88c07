import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RtoEstimator } from '../../src/tcp/rto.ts';
import { CongestionControl } from '../../src/tcp/congestion.ts';

describe('RFC 6298 estimator', () => {
  it('starts at the initial RTO and backs off exponentially to the ceiling', () => {
    const rto = new RtoEstimator(1000, 200, 60_000);
    assert.equal(rto.rto, 1000);
    const seen = [];
    for (let i = 0; i < 8; i += 1) {
      rto.backoff();
      seen.push(rto.rto);
    }
    assert.deepEqual(seen, [2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('first sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4*RTTVAR', () => {
    const rto = new RtoEstimator(1000, 1, 60_000);
    rto.sample(100);
    assert.equal(rto.srtt, 100);
    assert.equal(rto.rttvar, 50);
    assert.equal(rto.rto, 300);
  });

  it('later samples smooth with alpha 1/8 and beta 1/4', () => {
    const rto = new RtoEstimator(1000, 1, 60_000);
    rto.sample(100);
    rto.sample(200);
    assert.equal(rto.rttvar, 0.75 * 50 + 0.25 * 100);
    assert.equal(rto.srtt, 0.875 * 100 + 0.125 * 200);
    assert.equal(rto.rto, 112.5 + 4 * 62.5);
  });

  it('clamps to the floor and a new sample clears backoff', () => {
    const rto = new RtoEstimator(1000, 200, 60_000);
    rto.sample(1);
    assert.equal(rto.rto, 200);
    rto.backoff();
    rto.backoff();
    assert.equal(rto.rto, 800);
    rto.sample(1);
    assert.equal(rto.rto, 200);
  });
});

describe('RFC 5681 congestion window', () => {
  it('starts at ten segments (RFC 6928), grows by one MSS per ACK in slow start', () => {
    const cc = new CongestionControl(1000);
    assert.equal(cc.cwnd, 10_000);
    cc.onAck(5000);
    assert.equal(cc.cwnd, 11_000);
  });

  it('grows by about MSS*MSS/cwnd in congestion avoidance', () => {
    const cc = new CongestionControl(1000);
    cc.onRetransmissionTimeout(8000);
    assert.equal(cc.cwnd, 1000);
    assert.equal(cc.ssthresh, 4000);
    cc.onAck(1000);
    cc.onAck(1000);
    cc.onAck(1000);
    assert.equal(cc.cwnd, 4000);
    cc.onAck(1000);
    assert.equal(cc.cwnd, 4250);
  });

  it('fast recovery: ssthresh = max(flight/2, 2*MSS), cwnd = ssthresh + 3*MSS, inflate, deflate', () => {
    const cc = new CongestionControl(1000);
    cc.enterFastRecovery(3000);
    assert.equal(cc.ssthresh, 2000);
    assert.equal(cc.cwnd, 5000);
    cc.inflate();
    assert.equal(cc.cwnd, 6000);
    cc.exitFastRecovery();
    assert.equal(cc.cwnd, 2000);
  });
});
