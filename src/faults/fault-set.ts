// The live set of fault rules and the one decision the appliance asks of it: which rule, if any, applies to
// this request now. Rules are tried in the order they were added; a rule applies when its conditions match, it
// is inside its window, it has injections left and its probability roll (from its own seeded stream) succeeds.
import { seededRandom, streamSeed, type Random } from './prng.ts';
import { ruleFields, type FaultRule } from './rule.ts';
import { ruleMatches, type RequestFacts } from './request-facts.ts';
import { FaultSpecError } from './spec-error.ts';

/** Rules held at once: each is a few hundred bytes, and a request tries them in order. */
const MAX_RULES = 256;

interface LiveRule {
  rule: FaultRule;
  addedMs: number;
  injected: number;
  random: Random;
}

export interface RuleStatus {
  name: string;
  fields: Record<string, string>;
  injected: number;
  /** 'waiting' before start-after, 'active', 'expired' after its duration, 'spent' after its count. */
  state: 'waiting' | 'active' | 'expired' | 'spent';
}

interface Injection {
  rule: FaultRule;
}

export class FaultSet {
  private readonly rules: LiveRule[] = [];

  constructor(private seed: number) {}

  /** Adds a rule (replacing one of the same name, which starts afresh) active from nowMs + start-after. */
  add(rule: FaultRule, nowMs: number): void {
    const existing = this.rules.findIndex((live) => live.rule.name === rule.name);
    if (existing < 0 && this.rules.length >= MAX_RULES)
      throw new FaultSpecError('name', `already ${MAX_RULES} rules`, 'clear some first');
    const live: LiveRule = {
      rule,
      addedMs: nowMs,
      injected: 0,
      random: seededRandom(streamSeed(this.seed, rule.name)),
    };
    if (existing >= 0) this.rules[existing] = live;
    else this.rules.push(live);
  }

  /** Removes one rule, or every rule when no name is given; returns how many went. */
  clear(name?: string): number {
    if (name === undefined) return this.rules.splice(0).length;
    const index = this.rules.findIndex((live) => live.rule.name === name);
    if (index < 0) return 0;
    this.rules.splice(index, 1);
    return 1;
  }

  /** Restarts every rule's stream from a new seed: the same seed replays the same rolls. */
  reseed(seed: number): void {
    this.seed = seed >>> 0;
    for (const live of this.rules) live.random = seededRandom(streamSeed(this.seed, live.rule.name));
  }

  get currentSeed(): number {
    return this.seed;
  }

  get size(): number {
    return this.rules.length;
  }

  decide(facts: RequestFacts, nowMs: number): Injection | undefined {
    for (const live of this.rules) {
      if (stateOf(live, nowMs) !== 'active') continue;
      if (!ruleMatches(live.rule, facts)) continue;
      if (live.rule.probability < 1 && !(live.random() < live.rule.probability)) continue;
      live.injected += 1;
      return { rule: live.rule };
    }
    return undefined;
  }

  list(nowMs: number): RuleStatus[] {
    return this.rules.map((live) => ({
      name: live.rule.name,
      fields: ruleFields(live.rule),
      injected: live.injected,
      state: stateOf(live, nowMs),
    }));
  }
}

function stateOf(live: LiveRule, nowMs: number): RuleStatus['state'] {
  const { rule } = live;
  if (rule.count !== undefined && live.injected >= rule.count) return 'spent';
  const start = live.addedMs + rule.startAfterMs;
  if (nowMs < start) return 'waiting';
  if (rule.durationMs !== undefined && nowMs >= start + rule.durationMs) return 'expired';
  return 'active';
}
