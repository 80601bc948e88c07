// The one error the config loader throws: it names the file, the line and the key so an operator can fix it.
import { OperatorError, type OperatorErrorCode } from '../errors/operator-error.ts';

/** What is wrong with a line; the operator sees it as the error's code (out-of-range → OUT_OF_RANGE). */
export type ConfigErrorKind =
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

export class ConfigError extends OperatorError {
  readonly file: string;
  /** 1-based; 0 when the problem is the file as a whole. */
  readonly line: number;
  /** The key as written, `[section]` for section problems, '' for file-level problems. */
  readonly key: string;
  readonly kind: ConfigErrorKind;

  constructor(file: string, line: number, key: string, kind: ConfigErrorKind, problem: string, expected?: string) {
    // Shape: FILE:LINE: KEY: what is wrong (what is expected) — grep-able and clickable in editors.
    const where = key === '' ? `${file}:${line}` : `${file}:${line}: ${key}`;
    super(
      kind.toUpperCase().replaceAll('-', '_') as OperatorErrorCode,
      `${where}: ${problem}${expected === undefined ? '' : ` (${expected})`}`,
    );
    this.file = file;
    this.line = line;
    this.key = key;
    this.kind = kind;
  }
}

/** Raised by value parsers, which know nothing of files; the loader turns it into a ConfigError at the key's line. */
export class ValueProblem extends Error {
  readonly code: ConfigErrorKind;
  readonly expected: string | undefined;
  constructor(code: ConfigErrorKind, problem: string, expected?: string) {
    super(problem);
    this.code = code;
    this.expected = expected;
  }
}
