// What a rule can match on: the request's method, its path (query stripped, slashes collapsed, as the engine
// routes it), whether it carries a session token, and where it came from.
import type { FaultRule } from './rule.ts';

export interface RequestFacts {
  method: string;
  path: string;
  hasToken: boolean;
  /** Dotted IPv4 or RFC 5952 IPv6 text. */
  sourceAddress: string;
  /** Lower-case xx:xx:..., when the link layer told us. */
  sourceMac: string | undefined;
}

function ipv4Number(text: string): number {
  return text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function sourceMatches(source: string, facts: Pick<RequestFacts, 'sourceAddress' | 'sourceMac'>): boolean {
  if (source.length === 17 && source[2] === ':' && !source.includes('.')) {
    if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(source)) return facts.sourceMac === source;
  }
  const slash = source.indexOf('/');
  if (slash < 0) return facts.sourceAddress.toLowerCase() === source;
  if (!facts.sourceAddress.includes('.') || facts.sourceAddress.includes(':')) return false;
  const prefix = Number(source.slice(slash + 1));
  const size = 2 ** (32 - prefix);
  return Math.floor(ipv4Number(facts.sourceAddress) / size) === Math.floor(ipv4Number(source.slice(0, slash)) / size);
}

/** The rule's conditions on the request alone (not its window, count or probability). */
export function ruleMatches(rule: FaultRule, facts: RequestFacts): boolean {
  if (rule.methods.length > 0 && !rule.methods.includes(facts.method.toUpperCase())) return false;
  if (rule.path && !rule.path.matches(facts.path)) return false;
  if (rule.token === 'present' && !facts.hasToken) return false;
  if (rule.token === 'absent' && facts.hasToken) return false;
  if (rule.source !== undefined && !sourceMatches(rule.source, facts)) return false;
  return true;
}
