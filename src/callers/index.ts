export { type CallerIdentity } from './caller.ts';
export { CallerRegistry, type CallerEvent, type CallerStats } from './registry.ts';
export { CallerResolver, formatAddress, type AttributionMode } from './resolver.ts';
export { LinuxProbes, type AttributionMethod, type SystemProbes } from './system-probes.ts';
export { callersTable, evaluateAssertions, junitXml, resultsText, type CheckResult } from './report.ts';
