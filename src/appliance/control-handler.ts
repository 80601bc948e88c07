// What a running appliance does with each control request (`imds-hop options|events|credentials|metrics|faults|
// throttle|identity-cert|callers|status|ec2-api`): the request arrives validated; refusals are ControlRequestErrors,
// which reach the operator with their code.
import type { Logger } from 'pino';
import { CERTIFICATE_KINDS, EventError, type ImdsEngine } from '../imds/index.ts';
import type { MetadataOptionsChanger } from '../ec2-api/index.ts';
import type { CallerTracking } from './caller-tracking.ts';
import type { ControlRequest, EventCommand } from './control-protocol.ts';
import { ControlRequestError } from './control-server.ts';
import { changeOptions, type RunningEc2Api } from './ec2-api-wiring.ts';
import { handleFaultCommand, handleThrottle } from './fault-control.ts';
import type { FaultInjector } from './fault-injector.ts';
import type { ApplianceMetrics } from './metrics.ts';
import { memoryReport } from './memory-report.ts';

/** The parts of a running appliance the control socket reaches. */
interface ControlledAppliance {
  engine: ImdsEngine;
  metrics: ApplianceMetrics;
  injector: FaultInjector;
  changer: MetadataOptionsChanger;
  callers: CallerTracking | undefined;
  ec2Api: () => RunningEc2Api | undefined;
  /** Who is serving where, for `imds-hop status`. */
  identity: { instanceId: string; interface: string; backend: string; startedAtMs: number };
  log: Logger;
}

export async function handleControl(request: ControlRequest, appliance: ControlledAppliance): Promise<unknown> {
  const { engine, log } = appliance;
  switch (request.op) {
    case 'options':
      return changeOptions(appliance.changer, appliance.identity.instanceId, request.set);
    case 'ec2-api-credentials': {
      const running = appliance.ec2Api();
      if (!running) throw new ControlRequestError('EC2_API_OFF', 'the EC2 API is off (--ec2-api-listen off)');
      return running.credentials;
    }
    case 'events':
      try {
        return applyEvent(request.command, engine, log);
      } catch (error) {
        if (error instanceof EventError) throw new ControlRequestError('BAD_VALUE', error.message);
        throw error;
      }
    case 'rotate-credentials': {
      const rotated = engine.rotateCredentials(
        Date.now(),
        credentialSchedule(request.lifetimeSeconds, request.leadTimeSeconds),
      );
      // The access key id is public (it appears in CloudTrail); the secret never reaches the log.
      log.info(rotated, 'role credentials rotated');
      return rotated;
    }
    case 'metrics':
      return appliance.metrics.text();
    case 'faults':
      return handleFaultCommand(request.command, appliance.injector, performance.now(), log.child({ layer: 'faults' }));
    case 'throttle':
      return handleThrottle(request.set, appliance.injector, log.child({ layer: 'faults' }));
    case 'identity-cert': {
      const kind = request.kind ?? 'rsa2048';
      if (!CERTIFICATE_KINDS.includes(kind)) {
        throw new ControlRequestError(
          'BAD_KIND',
          `unknown certificate kind ${JSON.stringify(kind)}; expected one of ${CERTIFICATE_KINDS.join(', ')}`,
        );
      }
      return engine.identityCertificate(kind);
    }
    case 'status': {
      const { identity } = appliance;
      return {
        ...identity,
        startedAt: new Date(identity.startedAtMs).toISOString(),
        uptimeSeconds: Math.floor((Date.now() - identity.startedAtMs) / 1000),
        options: engine.options,
        events: engine.eventsSnapshot(),
        imds: appliance.metrics.summary(),
        memory: memoryReport(),
      };
    }
    case 'callers':
      return appliance.callers?.snapshot() ?? { enabled: false, callers: [], counters: {} };
  }
}

/** `credentials rotate --lifetime S --lead-time S`: the new set lasts S seconds and its successor appears the lead time before. */
function credentialSchedule(
  lifetimeSeconds: unknown,
  leadTimeSeconds: unknown,
): { lifetimeSeconds: number; refreshSeconds: number } | undefined {
  if (lifetimeSeconds === undefined && leadTimeSeconds === undefined) return undefined;
  const lifetime = lifetimeSeconds ?? 6 * 3600;
  const lead = leadTimeSeconds ?? (typeof lifetime === 'number' ? Math.min(300, Math.floor(lifetime / 2)) : 300);
  if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < 2 || lifetime > 43_200) {
    throw new ControlRequestError('BAD_CREDENTIALS', 'lifetime: must be 2..43200 seconds');
  }
  if (typeof lead !== 'number' || !Number.isInteger(lead) || lead < 1 || lead >= lifetime) {
    throw new ControlRequestError(
      'BAD_CREDENTIALS',
      `lead time: must be 1..${lifetime - 1} seconds (shorter than the lifetime)`,
    );
  }
  return { lifetimeSeconds: lifetime, refreshSeconds: lead };
}

function applyEvent(command: EventCommand, engine: ImdsEngine, log: Logger): unknown {
  const now = Date.now();
  switch (command.kind) {
    case 'spot-interruption':
      engine.scheduleSpotInterruption(command.action, now, command.noticeSeconds);
      break;
    case 'rebalance':
      engine.recommendRebalance(now);
      break;
    case 'maintenance':
      engine.scheduleMaintenance(
        {
          code: command.code,
          description: command.description,
          notBeforeMs: command.notBeforeMs,
          notAfterMs: command.notAfterMs,
        },
        now,
      );
      break;
    case 'cancel-maintenance':
      if (!engine.cancelMaintenance(command.eventId, now)) {
        throw new ControlRequestError('NO_SUCH_EVENT', `no scheduled maintenance event ${command.eventId}`);
      }
      break;
    case 'lifecycle-state':
      engine.setAutoscalingTargetLifecycleState(command.state);
      break;
    case 'clear':
      engine.clearEvents();
      break;
    case 'list':
      return engine.eventsSnapshot();
  }
  const snapshot = engine.eventsSnapshot();
  log.info({ event: command.kind, events: snapshot }, 'instance events changed');
  return snapshot;
}
