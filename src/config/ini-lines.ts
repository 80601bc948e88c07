// A line scan that follows the `ini` package's grammar but keeps line numbers, duplicates and its quirks visible.
// ini.parse() itself cannot serve: it splits on /[\r\n]+/ (blank lines vanish, so numbers drift), merges repeated
// sections, lets a repeated key silently win, and nests dotted section names. Decoding of every section name, key
// and value (quotes, JSON escapes, inline `;`/`#` comments) is ini's own `unsafe`, so values match ini.parse().
import { unsafe } from 'ini';
import { ConfigError } from './config-error.ts';

export interface IniEntry {
  key: string;
  value: string;
  line: number;
}

export interface IniSection {
  /** The decoded header, e.g. `network "eth1"`. */
  header: string;
  /** `network` for `[network "eth1"]`. */
  kind: string;
  /** `eth1` for `[network "eth1"]`; undefined for a plain `[network]`. */
  label: string | undefined;
  line: number;
  entries: IniEntry[];
}

// The same two patterns ini's decode() uses, so a line means here what it means to ini.
const SECTION_LINE = /^\[([^\]]*)\]\s*$/;
const KEY_LINE = /^([^=]+)(=(.*))?$/;
const COMMENT_OR_BLANK = /^\s*(?:[;#].*)?$/;
// `[network "eth1"]`, or unquoted when the label is a plain word: `[fault token-timeout]`.
const HEADER = /^([a-z0-9-]+)(?:\s+(?:"([^"]*)"|([A-Za-z0-9._-]+)))?$/;

// ini's unsafe() JSON-parses quoted text, so `'1'` comes back a number and `'{}'` an object: bring it back to text.
function decode(text: string): string {
  const value = unsafe(text) as unknown;
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

export function scanIni(text: string, file: string): IniSection[] {
  const sections: IniSection[] = [];
  const seenSections = new Map<string, number>();
  let current: IniSection | undefined;
  let seenKeys = new Map<string, number>();
  const lines = text.split(/\r\n|\r|\n/);

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const line = i + 1;
    if (COMMENT_OR_BLANK.test(raw)) continue;

    const header = SECTION_LINE.exec(raw);
    if (header !== null) {
      const rawName = header[1];
      const name = decode(rawName);
      const shown = `[${name}]`;
      // ini would nest [a.b] under [a]; we have no nested sections, so a dot is always a mistake here.
      if (rawName.includes('.')) {
        throw new ConfigError(
          file,
          line,
          shown,
          'unsupported',
          'dotted section names are not supported',
          'sections do not nest; write [network "eth1"] for a second interface',
        );
      }
      const parts = HEADER.exec(name);
      if (parts === null) {
        throw new ConfigError(
          file,
          line,
          shown,
          'syntax',
          'malformed section name',
          'lower-case kebab-case name, optionally followed by a "label"',
        );
      }
      const first = seenSections.get(name);
      if (first !== undefined) {
        throw new ConfigError(
          file,
          line,
          shown,
          'duplicate-section',
          `section repeated (first at line ${first})`,
          'each section once',
        );
      }
      seenSections.set(name, line);
      current = { header: name, kind: parts[1], label: parts[2] ?? parts[3], line, entries: [] };
      seenKeys = new Map();
      sections.push(current);
      continue;
    }
    if (raw.trimStart().startsWith('[')) {
      // ini would read `[x] junk` or an indented `  [x]` as a key named "[x]…"; that is never what was meant.
      throw new ConfigError(
        file,
        line,
        raw.trim(),
        'syntax',
        'malformed section header',
        '[name] alone on the line, starting in column 1',
      );
    }

    const kv = KEY_LINE.exec(raw);
    if (kv === null) {
      throw new ConfigError(file, line, '', 'syntax', 'line has no key before "="', 'key = value');
    }
    const key = decode(kv[1]);
    if (kv[2] === undefined) {
      // ini turns a bare `key` into `true`; explicit is better for an operator-facing file.
      throw new ConfigError(file, line, key, 'syntax', 'key without "="', 'key = value');
    }
    if (key.endsWith('[]')) {
      throw new ConfigError(
        file,
        line,
        key,
        'unsupported',
        'ini array keys (key[] = …) are not supported',
        'one key with a comma-separated list',
      );
    }
    if (key === '') {
      throw new ConfigError(file, line, key, 'syntax', 'empty key', 'key = value');
    }
    if (current === undefined) {
      throw new ConfigError(
        file,
        line,
        key,
        'syntax',
        'key outside any section',
        'a [section] header before the first key',
      );
    }
    const first = seenKeys.get(key);
    if (first !== undefined) {
      throw new ConfigError(
        file,
        line,
        key,
        'duplicate-key',
        `key repeated in [${current.header}] (first at line ${first})`,
        'each key once per section',
      );
    }
    seenKeys.set(key, line);
    current.entries.push({ key, value: decode(kv[3] ?? ''), line });
  }
  return sections;
}
