// What the misconfiguration demo needs from a lab, wherever it runs: network namespaces on this host
// (netns-driver.ts) or the Vagrant VMs (vagrant-driver.ts). The scenarios, the table and the capture assertions
// (demo.ts) are the same for both; only how a command reaches a machine differs.

export interface Setting {
  httpTokens: 'optional' | 'required';
  hopLimit: number;
}

/** Which client machine a request is made from: the attacker behind the NAT, or the container behind the bridge. */
export type Side = 'attacker' | 'container';
export type CaptureFiles = Record<'tap' | 'attacker' | 'container', string>;

export interface HttpOutcome {
  exit: number;
  status: number;
  body: string;
}

export interface LabDriver {
  /** The instance's address on the attacker's network (where the proxies and the SSRF app listen). */
  instanceAddress: string;
  /** How long a token PUT may take before it counts as "no token (timed out)"; long enough for a live response. */
  tokenWaitSeconds: number;
  /** How long any other request may take. */
  requestSeconds: number;
  /** curl -w '\n%{http_code}' from a side; never throws. */
  curl(side: Side, url: string, extra: string[], maxSeconds: number): Promise<HttpOutcome>;
  setOptions(setting: Setting): Promise<void>;
  /** A mark in the appliance's log; `logSince` returns what was logged after it. */
  logMark(): Promise<string>;
  logSince(mark: string): Promise<string>;
  /** Starts the tap's, the attacker link's and the container link's captures; stop() leaves them in `files`. */
  startCaptures(files: CaptureFiles): Promise<{ stop(): Promise<void> }>;
}

/** curl's arguments for one request, printing the status code on a last line of its own. */
export function curlArgs(url: string, extra: string[], maxSeconds: number): string[] {
  return ['-sS', '--noproxy', '*', '--max-time', String(maxSeconds), '-w', '\n%{http_code}', ...extra, url];
}

export function curlOutcome(exit: number, stdout: string): HttpOutcome {
  const cut = stdout.lastIndexOf('\n');
  return { exit, status: Number(stdout.slice(cut + 1)) || 0, body: stdout.slice(0, cut) };
}
