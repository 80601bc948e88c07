// Public surface of the fault layer: pure decisions (which rule applies to this request now, whether a packet is
// within its allowance, where the early-boot window stands) with the clock and randomness passed in.
export { TokenBucket, KeyedBuckets, type BucketSettings } from './token-bucket.ts';
export { seededRandom, streamSeed, type Random } from './prng.ts';
export { compilePathPattern, type PathPattern } from './path-pattern.ts';
export { FaultSpecError } from './spec-error.ts';
export {
  parseFaultRule,
  ruleFields,
  checkRuleName,
  FAULT_ACTIONS,
  RULE_KEYS,
  MAX_DELAY_MS,
  type FaultRule,
  type FaultAction,
  type FaultActionKind,
} from './rule.ts';
export { ruleMatches, sourceMatches, type RequestFacts } from './request-facts.ts';
export { FaultSet, MAX_RULES, type Injection, type RuleStatus } from './fault-set.ts';
export { EarlyBootWindow, parseEarlyBoot, EARLY_BOOT_KEYS, type EarlyBootSettings, type BootPhase } from './early-boot.ts';
export {
  parseThrottle,
  throttleFields,
  PacketAllowance,
  ConnectionCounts,
  NO_THROTTLE,
  THROTTLE_KEYS,
  type ThrottleSettings,
  type PacketVerdict,
} from './throttle.ts';
export { LogLimiter, type LogPermit } from './log-limiter.ts';
