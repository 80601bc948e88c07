// Parsers return bad input as a value: the reason becomes a drop counter name, so it stays short kebab-case.
export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T>(reason: string): ParseResult<T> {
  return { ok: false, reason };
}
