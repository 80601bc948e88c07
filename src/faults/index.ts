// Public surface of the fault layer: pure decisions (which rule applies to this request now, whether a packet is
// within its allowance, where the early-boot window stands) with the clock and randomness passed in.
export { TokenBucket, KeyedBuckets } from './token-bucket.ts';
export { compilePathPattern } from './path-pattern.ts';
export { FaultSpecError } from './spec-error.ts';
export { parseFaultRule, ruleFields, RULE_KEYS, type FaultRule } from './rule.ts';
export { ruleMatches, type RequestFacts } from './request-facts.ts';
export { FaultSet, type RuleStatus } from './fault-set.ts';
export { EarlyBootWindow, parseEarlyBoot, EARLY_BOOT_KEYS, type EarlyBootSettings } from './early-boot.ts';
export {
  parseThrottle,
  throttleFields,
  PacketAllowance,
  ConnectionCounts,
  NO_THROTTLE,
  THROTTLE_KEYS,
  type ThrottleSettings,
} from './throttle.ts';
export { LogLimiter } from './log-limiter.ts';
