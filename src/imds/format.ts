// Text layouts EC2 uses in metadata bodies.

/** ISO-8601 UTC to the second, as EC2 writes LastUpdated/Expiration/pendingTime: 2026-11-25T08:00:00Z. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Date in scheduled-event records: "21 Jan 2019 09:00:43 GMT" (EC2 User Guide, scheduled events example). */
export function eventDate(ms: number): string {
  return new Date(ms).toUTCString().replace(/^[A-Za-z]{3}, /, '');
}

/**
 * EC2's JSON layout for credentials, iam/info and the identity document: two-space indent, `"key" : value`,
 * no trailing newline. The embedded document in AEMM's sample pkcs7 decodes to exactly this layout.
 */
export type Ec2JsonValue = string | number | null | readonly string[];

export function ec2Json(fields: ReadonlyArray<readonly [string, Ec2JsonValue]>, indent = ''): string {
  const show = (value: Ec2JsonValue): string =>
    Array.isArray(value) ? `[ ${value.map((item) => JSON.stringify(item)).join(', ')} ]` : JSON.stringify(value);
  const lines = fields.map(([key, value]) => `${indent}  ${JSON.stringify(key)} : ${show(value)}`);
  return `${indent}{\n${lines.join(',\n')}\n${indent}}`;
}

/** Base64 wrapped at 76 columns, as EC2 sends pkcs7 and signature (AEMM default values). */
export function wrappedBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('base64')
    .replace(/(.{76})(?=.)/g, '$1\n');
}
