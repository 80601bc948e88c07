export { callerKey, type CallerIdentity, type CallerKind } from './caller.ts';
export { containerOf, containerOfPath, cgroupPathOf, type Container } from './cgroup.ts';
export { CallerRegistry, DEFAULT_REGISTRY_LIMITS, type CallerEvent, type CallerStats, type RequestRecord, type TokenUse } from './registry.ts';
export { CallerResolver, formatAddress, type AttributionMode, type ConnectionSource } from './resolver.ts';
export { LinuxProbes, processInfoFromFiles, type LocalSocket, type ProcessInfo, type SystemProbes } from './system-probes.ts';
export { callersTable, evaluateAssertions, junitXml, resultsText, type AssertOptions, type CheckResult } from './report.ts';
