// Case-insensitive lookups that work on both header shapes the project uses: a Record and [name, value] pairs.

export type HeaderList = ReadonlyArray<readonly [string, string]>;
export type HeaderRecord = Readonly<Record<string, string>>;
export type Headers = HeaderList | HeaderRecord;

function entries(headers: Headers): Iterable<readonly [string, string]> {
  return Array.isArray(headers) ? (headers as HeaderList) : Object.entries(headers as HeaderRecord);
}

/** Every value of `name`, joined with ', ' as RFC 9110 5.3 allows; undefined when absent. */
export function headerValue(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  let found: string | undefined;
  for (const [key, value] of entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    found = found === undefined ? value : `${found}, ${value}`;
  }
  return found;
}

export function hasHeader(headers: Headers, name: string): boolean {
  return headerValue(headers, name) !== undefined;
}
