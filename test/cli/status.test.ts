// `imds-hop status` as a person reads it: every option, each pending event on its own line, the counters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusText, type ApplianceStatus } from '../../src/cli/status.ts';

const STATUS: ApplianceStatus = {
  instanceId: 'i-0123456789abcdef0',
  interface: 'imds0',
  backend: 'tap',
  startedAt: '2026-12-01T10:00:00.000Z',
  uptimeSeconds: 3725,
  options: {
    httpTokens: 'required',
    httpEndpoint: 'enabled',
    httpPutResponseHopLimit: 2,
    instanceMetadataTags: 'disabled',
    httpProtocolIpv6: 'enabled',
  },
  events: {
    spot: undefined,
    rebalance: undefined,
    scheduled: [],
    history: [],
    autoscalingTargetLifecycleState: undefined,
  },
  imds: { requests: 12, tokens_issued: 3, metadata_no_token: 2, metadata_no_token_rejected: 2 },
  memory: {
    rssBytes: 52 * 1_048_576,
    peakRssBytes: 64 * 1_048_576,
    rssAnonBytes: 40 * 1_048_576,
    rssFileBytes: 12 * 1_048_576,
    heapUsedBytes: 9.75 * 1_048_576,
    heapTotalBytes: 14.25 * 1_048_576,
    externalBytes: 2.3 * 1_048_576,
    heapSpaces: { new_space: { sizeBytes: 1_048_576, usedBytes: 500_000 } },
  },
};

test('status lists the instance, every option and the counters, aligned', () => {
  assert.equal(
    statusText(STATUS),
    [
      'instance            i-0123456789abcdef0',
      'interface           imds0 (tap backend)',
      'up                  1h 2m 5s, since 2026-12-01T10:00:00.000Z',
      'http-tokens         required',
      'http-endpoint       enabled',
      'hop limit           2',
      'instance tags       disabled',
      'IPv6 endpoint       enabled',
      'events              none',
      'requests            12',
      'tokens issued       3',
      'tokens rejected     0',
      'without token       2 (rejected: 2)',
      'credentials served  0',
      'memory              rss 52.0 MiB (peak 64.0 MiB; own 40.0 MiB, mapped files 12.0 MiB), heap 9.8 MiB of 14.3 MiB, young 1.0 MiB, buffers 2.3 MiB',
      '',
    ].join('\n'),
  );
});

test('each pending event gets a line of its own', () => {
  const text = statusText({
    ...STATUS,
    events: {
      spot: { action: 'stop', time: '2026-12-01T11:02:00Z' },
      rebalance: { noticeTime: '2026-12-01T11:00:00Z' },
      scheduled: [
        {
          eventId: 'instance-event-0abc',
          code: 'system-reboot',
          description: 'scheduled reboot',
          notBeforeMs: Date.UTC(2026, 11, 8),
          notAfterMs: Date.UTC(2026, 11, 8, 2),
          state: 'active',
        },
      ],
      history: [],
      autoscalingTargetLifecycleState: 'InService',
    },
  });
  assert.match(
    text,
    /\nevents {14}spot interruption: stop at 2026-12-01T11:02:00Z\n {20}rebalance recommended at 2026-12-01T11:00:00Z\n/,
  );
  assert.match(
    text,
    /\n {20}maintenance instance-event-0abc: system-reboot, 2026-12-08T00:00:00\.000Z \.\. 2026-12-08T02:00:00\.000Z \(active\)\n/,
  );
  assert.match(text, /\n {20}target lifecycle state: InService\n/);
});
