// What part of a request target names the resource: the path before any query or fragment, and the path a target
// routes to, repeated slashes collapsed too (@aws-sdk/ec2-metadata-service asks for "//latest/..." and EC2 serves it).

/** The target up to its query or fragment, if it has one. */
export function targetPath(target: string): string {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3f || c === 0x23) return target.slice(0, i); // '?' or '#'
  }
  return target;
}

/** The path a target routes to: query and fragment cut, repeated slashes collapsed. */
export function requestPath(target: string): string {
  if (!PATH_TO_CLEAN.test(target)) return target; // the usual target: nothing to cut or collapse, nothing allocated
  return targetPath(target).replace(/\/{2,}/g, '/');
}

const PATH_TO_CLEAN = /[?#]|\/\//;
