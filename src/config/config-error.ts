// The one error the config loader throws: it names the file, the line and the key so an operator can fix it.

export type ConfigErrorCode =
  | 'config-unreadable' // the config file itself cannot be read (line 0)
  | 'syntax' // a line that is neither a comment, a [section] nor key = value
  | 'unsupported' // ini features we refuse: `key[]` arrays, dotted section names
  | 'unknown-section'
  | 'unknown-key'
  | 'duplicate-section'
  | 'duplicate-key'
  | 'invalid-value' // wrong shape or not one of an enum
  | 'out-of-range' // integers, lengths and counts outside their limits
  | 'inconsistent' // keys that contradict each other (region vs availability-zone, refresh vs lifetime…)
  | 'missing-key'
  | 'user-data-unreadable';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string;
  /** 1-based; 0 when the problem is the file as a whole. */
  readonly line: number;
  /** The key as written, `[section]` for section problems, '' for file-level problems. */
  readonly key: string;
  readonly code: ConfigErrorCode;

  constructor(file: string, line: number, key: string, code: ConfigErrorCode, problem: string, expected?: string) {
    // Shape: FILE:LINE: KEY: what is wrong (what is expected) — grep-able and clickable in editors.
    const where = key === '' ? `${file}:${line}` : `${file}:${line}: ${key}`;
    super(`${where}: ${problem}${expected === undefined ? '' : ` (${expected})`}`);
    this.file = file;
    this.line = line;
    this.key = key;
    this.code = code;
  }
}

/** Raised by value parsers, which know nothing of files; the loader turns it into a ConfigError at the key's line. */
export class ValueProblem extends Error {
  readonly code: ConfigErrorCode;
  readonly expected: string | undefined;
  constructor(code: ConfigErrorCode, problem: string, expected?: string) {
    super(problem);
    this.code = code;
    this.expected = expected;
  }
}
