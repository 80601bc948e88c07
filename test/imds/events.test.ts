import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventError } from '../../src/imds/index.ts';
import { NOW_MS, bodyText, get, makeEngine } from './helpers.ts';

const body = (engine: ReturnType<typeof makeEngine>['engine'], path: string, wallMs = NOW_MS) => {
  const response = engine.handle(get(`/latest/meta-data/${path}`), wallMs);
  return { status: response.status, text: bodyText(response.body) };
};

test('a spot interruption shows instance-action and termination-time with the notice period', () => {
  const { engine } = makeEngine();
  assert.equal(body(engine, 'spot/instance-action').status, 404);
  engine.scheduleSpotInterruption('terminate', NOW_MS, 300);
  assert.deepEqual(JSON.parse(body(engine, 'spot/instance-action').text), {
    action: 'terminate',
    time: '2026-11-25T09:05:00Z',
  });
  assert.equal(body(engine, 'spot/termination-time').text, '2026-11-25T09:05:00Z');
  assert.match(body(engine, '').text, /\nspot\/(\n|$)/);
  engine.scheduleSpotInterruption('hibernate', NOW_MS);
  assert.equal(JSON.parse(body(engine, 'spot/instance-action').text).action, 'hibernate');
  assert.equal(body(engine, 'spot/termination-time').status, 404);
  assert.throws(() => engine.scheduleSpotInterruption('explode' as never, NOW_MS), EventError);
});

test('a rebalance recommendation carries its notice time', () => {
  const { engine } = makeEngine();
  engine.recommendRebalance(NOW_MS + 61_000);
  assert.deepEqual(JSON.parse(body(engine, 'events/recommendations/rebalance').text), {
    noticeTime: '2026-11-25T09:01:01Z',
  });
  assert.equal(body(engine, 'events/').text, 'maintenance/\nrecommendations/');
});

test('maintenance events: scheduled, canceled into history, completed after their window', () => {
  const { engine } = makeEngine();
  assert.equal(body(engine, 'events/maintenance/scheduled').text, '[]');
  assert.equal(body(engine, 'events/maintenance/history').text, '[]');
  const notBeforeMs = Date.parse('2026-11-26T09:00:43Z');
  const id = engine.scheduleMaintenance(
    { code: 'system-reboot', description: 'scheduled reboot', notBeforeMs, notAfterMs: notBeforeMs + 1000_000 },
    NOW_MS,
  );
  assert.match(id, /^instance-event-[0-9a-f]{17}$/);
  const [event] = JSON.parse(body(engine, 'events/maintenance/scheduled').text);
  assert.deepEqual(event, {
    NotBefore: '26 Nov 2026 09:00:43 GMT',
    Code: 'system-reboot',
    Description: 'scheduled reboot',
    EventId: id,
    NotAfter: '26 Nov 2026 09:17:23 GMT',
    State: 'active',
  });
  const second = engine.scheduleMaintenance({ code: 'instance-retirement' }, NOW_MS);
  assert.equal(engine.cancelMaintenance(second), true);
  assert.equal(engine.cancelMaintenance(second), false);
  const history = JSON.parse(body(engine, 'events/maintenance/history').text);
  assert.deepEqual(
    history.map((e: { EventId: string; State: string }) => [e.EventId, e.State]),
    [[second, 'canceled']],
  );
  // After the first event's window it reads as completed, in history.
  const later = notBeforeMs + 2000_000;
  assert.deepEqual(JSON.parse(body(engine, 'events/maintenance/scheduled', later).text), []);
  const done = JSON.parse(body(engine, 'events/maintenance/history', later).text);
  assert.ok(done.some((e: { EventId: string; State: string }) => e.EventId === id && e.State === 'completed'));
  assert.throws(() => engine.scheduleMaintenance({ code: 'reboot-now' as never }, NOW_MS), EventError);
});

test('autoscaling target lifecycle state, snapshot and clear', () => {
  const { engine } = makeEngine();
  engine.setAutoscalingTargetLifecycleState('InService');
  assert.equal(body(engine, 'autoscaling/target-lifecycle-state').text, 'InService');
  engine.scheduleSpotInterruption('stop', NOW_MS);
  engine.recommendRebalance(NOW_MS);
  const snapshot = engine.eventsSnapshot(NOW_MS);
  assert.equal(snapshot.spot?.action, 'stop');
  assert.equal(snapshot.rebalance?.noticeTime, '2026-11-25T09:00:00Z');
  assert.equal(snapshot.autoscalingTargetLifecycleState, 'InService');
  engine.setAutoscalingTargetLifecycleState(undefined);
  assert.equal(body(engine, 'autoscaling/target-lifecycle-state').status, 404);
  engine.clearEvents();
  assert.deepEqual(engine.eventsSnapshot(NOW_MS), {
    spot: undefined,
    rebalance: undefined,
    scheduled: [],
    history: [],
    autoscalingTargetLifecycleState: undefined,
  });
  assert.equal(body(engine, 'spot/instance-action').status, 404);
});

test('eventsSnapshot() without a clock uses the latest time the engine was given', () => {
  const { engine } = makeEngine();
  const id = engine.scheduleMaintenance(
    { code: 'instance-stop', notBeforeMs: NOW_MS + 1000, notAfterMs: NOW_MS + 2000 },
    NOW_MS,
  );
  assert.equal(engine.eventsSnapshot().scheduled[0].eventId, id);
  engine.handle(get('/'), NOW_MS + 5000);
  assert.equal(engine.eventsSnapshot().history[0].state, 'completed');
  assert.match(engine.identityCertificate('rsa2048'), /^-----BEGIN CERTIFICATE-----/);
});
