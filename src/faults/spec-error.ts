// The one error of the fault layer's parsers: which key is wrong, what is wrong, what is expected. The config
// loader turns it into FILE:LINE: KEY, the control socket into a BAD_FAULT reply, the CLI into a usage error.

export class FaultSpecError extends Error {
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly expected?: string,
  ) {
    super(`${key}: ${problem}${expected === undefined ? '' : ` (${expected})`}`);
    this.name = 'FaultSpecError';
  }
}

/** Canonical decimal integer in min..max, or a FaultSpecError naming the key. */
export function integerField(key: string, text: string, min: number, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text))
    throw new FaultSpecError(key, `${JSON.stringify(text)} is not an integer`, `whole number ${min}..${max}`);
  const n = Number(text);
  if (n < min || n > max) throw new FaultSpecError(key, `${text} is out of range`, `${min}..${max}`);
  return n;
}

export function choiceField<T extends string>(key: string, text: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new FaultSpecError(key, `${JSON.stringify(text)} is not allowed`, `one of ${choices.join(' | ')}`);
}

/** Rejects keys no table knows, with the list of known ones. */
export function checkKnownKeys(fields: Record<string, string>, known: readonly string[]): void {
  for (const key of Object.keys(fields)) {
    if (!known.includes(key)) throw new FaultSpecError(key, 'unknown key', `one of ${known.join(', ')}`);
  }
}
