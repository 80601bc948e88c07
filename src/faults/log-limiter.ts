// Each injected fault is worth one log line, but a flood of them is not: per key (a rule name), at most
// `perWindow` lines every `windowMs`; what was held back is reported with the next line that gets through.

interface LogPermit {
  /** Lines held back for this key since the last one logged. */
  suppressed: number;
}

export class LogLimiter {
  private readonly windows = new Map<string, { startMs: number; logged: number; suppressed: number }>();

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly maxKeys = 1024,
  ) {}

  /** A permit to log now, or undefined when this key has used up its window. */
  permit(key: string, nowMs: number): LogPermit | undefined {
    let window = this.windows.get(key);
    if (!window || nowMs - window.startMs >= this.windowMs || nowMs < window.startMs) {
      const suppressed = window?.suppressed ?? 0;
      if (!window && this.windows.size >= this.maxKeys) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
      window = { startMs: nowMs, logged: 0, suppressed };
      this.windows.set(key, window);
    }
    if (window.logged >= this.perWindow) {
      window.suppressed += 1;
      return undefined;
    }
    window.logged += 1;
    const permit = { suppressed: window.suppressed };
    window.suppressed = 0;
    return permit;
  }
}
