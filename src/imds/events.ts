// Instance events the operator injects (spot interruption, rebalance recommendation, scheduled maintenance,
// Auto Scaling target state). Plain data held by the engine; every time comes from the caller's wall clock.
import { eventDate, isoSeconds } from './format.ts';
import {
  EVENT_DESCRIPTION,
  EVENT_TIME_MS,
  LIFECYCLE_STATE,
  MAINTENANCE_CODE,
  NOTICE_SECONDS,
  RuleViolation,
  SPOT_ACTION,
  type MaintenanceCode,
  type SpotAction,
} from './value-rules.ts';

export interface SpotInterruption {
  action: SpotAction;
  /** When the action happens (notice time + notice period). */
  timeMs: number;
}

export interface MaintenanceEvent {
  eventId: string;
  code: MaintenanceCode;
  description: string;
  notBeforeMs: number;
  notAfterMs: number;
  state: 'active' | 'canceled' | 'completed';
}

export interface MaintenanceRequest {
  code: MaintenanceCode;
  description?: string;
  notBeforeMs?: number;
  notAfterMs?: number;
}

export interface EventState {
  spot: SpotInterruption | undefined;
  rebalanceNoticeMs: number | undefined;
  maintenance: MaintenanceEvent[];
  autoscalingTargetLifecycleState: string | undefined;
}

export interface EventsSnapshot {
  spot: { action: SpotAction; time: string } | undefined;
  rebalance: { noticeTime: string } | undefined;
  scheduled: MaintenanceEvent[];
  history: MaintenanceEvent[];
  autoscalingTargetLifecycleState: string | undefined;
}

export class EventError extends Error {
  readonly code = 'IMDS_EVENT_INVALID';
}

const DEFAULT_DESCRIPTIONS: Record<MaintenanceCode, string> = {
  'instance-reboot': 'scheduled reboot',
  'system-reboot': 'scheduled reboot',
  'system-maintenance': 'scheduled maintenance',
  'instance-retirement': 'scheduled retirement',
  'instance-stop': 'scheduled stop',
};
const DEFAULT_LEAD_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_WINDOW_MS = 2 * 3600 * 1000;

export function emptyEvents(autoscalingTargetLifecycleState?: string): EventState {
  return { spot: undefined, rebalanceNoticeMs: undefined, maintenance: [], autoscalingTargetLifecycleState };
}

export function spotInterruption(action: SpotAction, wallMs: number, noticeSeconds: number): SpotInterruption {
  asEventError(() => SPOT_ACTION.check(action));
  return { action, timeMs: wallMs + asEventError(() => NOTICE_SECONDS.check(noticeSeconds)) * 1000 };
}

export function maintenanceEvent(request: MaintenanceRequest, eventId: string, wallMs: number): MaintenanceEvent {
  asEventError(() => MAINTENANCE_CODE.check(request.code));
  const notBeforeMs = asEventError(() => EVENT_TIME_MS.check(request.notBeforeMs ?? wallMs + DEFAULT_LEAD_MS));
  const notAfterMs = asEventError(() => EVENT_TIME_MS.check(request.notAfterMs ?? notBeforeMs + DEFAULT_WINDOW_MS));
  if (request.description !== undefined) asEventError(() => EVENT_DESCRIPTION.check(request.description));
  if (!Number.isFinite(notBeforeMs) || !Number.isFinite(notAfterMs) || notAfterMs < notBeforeMs) {
    throw new EventError('notAfter must not be before notBefore');
  }
  return {
    eventId,
    code: request.code,
    description: request.description ?? DEFAULT_DESCRIPTIONS[request.code],
    notBeforeMs,
    notAfterMs,
    state: 'active',
  };
}

/** autoscaling/target-lifecycle-state as the operator sets it: a documented state, or none. */
export function targetLifecycleState(state: string | undefined): string | undefined {
  return state === undefined ? undefined : asEventError(() => LIFECYCLE_STATE.check(state));
}

/** An active event whose window has closed reads as completed, without anyone having to mutate it. */
function asOf(event: MaintenanceEvent, wallMs: number): MaintenanceEvent {
  return event.state === 'active' && wallMs >= event.notAfterMs
    ? { ...event, state: 'completed', description: `[Completed] ${event.description}` }
    : event;
}

export function scheduledEvents(state: EventState, wallMs: number): MaintenanceEvent[] {
  return state.maintenance.map((event) => asOf(event, wallMs)).filter((event) => event.state === 'active');
}

export function historyEvents(state: EventState, wallMs: number): MaintenanceEvent[] {
  return state.maintenance.map((event) => asOf(event, wallMs)).filter((event) => event.state !== 'active');
}

/** events/maintenance/{scheduled,history}: a JSON array of EC2's records, `[]` when empty. */
export function maintenanceJson(events: MaintenanceEvent[]): string {
  if (events.length === 0) return '[]';
  const records = events.map((event) =>
    [
      '  {',
      `    "NotBefore" : ${JSON.stringify(eventDate(event.notBeforeMs))},`,
      `    "Code" : ${JSON.stringify(event.code)},`,
      `    "Description" : ${JSON.stringify(event.description)},`,
      `    "EventId" : ${JSON.stringify(event.eventId)},`,
      `    "NotAfter" : ${JSON.stringify(eventDate(event.notAfterMs))},`,
      `    "State" : ${JSON.stringify(event.state)}`,
      '  }',
    ].join('\n'),
  );
  return `[\n${records.join(',\n')}\n]`;
}

/** spot/instance-action, laid out as in the EC2 User Guide example. */
export function spotActionJson(spot: SpotInterruption): string {
  return `{"action": ${JSON.stringify(spot.action)}, "time": ${JSON.stringify(isoSeconds(spot.timeMs))}}`;
}

/** events/recommendations/rebalance, laid out as in the EC2 User Guide example. */
export function rebalanceJson(noticeMs: number): string {
  return `{"noticeTime": ${JSON.stringify(isoSeconds(noticeMs))}}`;
}

export function snapshotEvents(state: EventState, wallMs: number): EventsSnapshot {
  return {
    spot: state.spot ? { action: state.spot.action, time: isoSeconds(state.spot.timeMs) } : undefined,
    rebalance: state.rebalanceNoticeMs === undefined ? undefined : { noticeTime: isoSeconds(state.rebalanceNoticeMs) },
    scheduled: scheduledEvents(state, wallMs),
    history: historyEvents(state, wallMs),
    autoscalingTargetLifecycleState: state.autoscalingTargetLifecycleState,
  };
}

/** The shared rules' violations, as this module's error. */
function asEventError<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RuleViolation) throw new EventError(error.message);
    throw error;
  }
}
