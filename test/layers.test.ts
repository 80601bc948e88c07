// The layer table of ARCHITECTURE.md, enforced: each folder of src/ imports only the layers below it, so wire and
// tcp never learn about metadata and imds never learns about packets. Every folder of src/ must have a row, and
// no code lives at the root of src/: a file or folder the table does not place fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../src');

/** Folder → the folders of ours it may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  wire: [],
  tcp: ['wire'],
  http: [],
  imds: [],
  link: ['wire', 'errors'],
  faults: [],
  config: ['imds', 'faults', 'errors'],
  lab: ['wire', 'errors'],
  callers: ['imds', 'link'],
  'ec2-api': ['imds', 'errors'],
  appliance: ['wire', 'tcp', 'http', 'imds', 'link', 'config', 'faults', 'callers', 'ec2-api', 'errors'],
  cli: ['wire', 'imds', 'link', 'faults', 'config', 'lab', 'callers', 'ec2-api', 'appliance', 'errors'],
  types: [],
};

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(join(folder, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(folder, entry.name)]
        : [],
  );
}

/** Every module a file names: static imports and re-exports, side-effect imports and dynamic import(). */
function importedSpecifiers(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)'([^']+)'/g)].map((match) => match[1] as string);
}

test('every folder of src/ has a row in the layer table, and no code sits at the root of src/', () => {
  const entries = readdirSync(SRC, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(
    folders.filter((name) => !(name in ALLOWED)),
    [],
    'folders of src/ missing from the layer table',
  );
  assert.deepEqual(
    entries.filter((e) => !e.isDirectory()).map((e) => e.name),
    [],
    'files at the root of src/ (give each a folder)',
  );
  assert.deepEqual(
    Object.keys(ALLOWED).filter((name) => !folders.includes(name)),
    [],
    'rows for folders that no longer exist',
  );
});

/** The layer table of ARCHITECTURE.md: folder → what its last column lets it import. */
function documentedTable(): Record<string, string[]> {
  const text = readFileSync(resolve(SRC, '../ARCHITECTURE.md'), 'utf8');
  const table: Record<string, string[]> = {};
  for (const row of text.matchAll(/^\| `src\/([a-z0-9-]+)` \|.*\| ([^|]+) \|$/gm)) {
    const allowed = row[2]?.trim() ?? '';
    table[row[1] as string] =
      allowed === 'nothing of ours' ? [] : [...allowed.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1] as string);
  }
  return table;
}

test('ARCHITECTURE.md lays out the same layer table, row for row', () => {
  const sorted = (table: Record<string, readonly string[]>) =>
    Object.fromEntries(Object.entries(table).map(([k, v]) => [k, [...v].sort()]));
  assert.deepEqual(sorted(documentedTable()), sorted(ALLOWED));
});

test('the import reader sees every form of import', () => {
  const text = [
    "import { a } from '../wire/index.ts';",
    'import {\n  b,\n} from "../not-single-quoted.ts";',
    "export * from '../tcp/index.ts';",
    "import '../http/index.ts';",
    "const m = await import('../link/index.ts');",
    "import type { C } from './local.ts';",
  ].join('\n');
  assert.deepEqual(importedSpecifiers(text), [
    '../wire/index.ts',
    '../tcp/index.ts',
    '../http/index.ts',
    '../link/index.ts',
    './local.ts',
  ]);
});

test('no import uses double quotes, which the layer check would not read', () => {
  const missed = Object.keys(ALLOWED)
    .flatMap((layer) => filesUnder(join(SRC, layer)))
    .filter((file) => /(?:\bfrom\s*|\bimport\s*\(?\s*)"\.{1,2}\//.test(readFileSync(file, 'utf8')));
  assert.deepEqual(
    missed.map((file) => file.slice(SRC.length + 1)),
    [],
  );
});

test('imports flow one way, as ARCHITECTURE.md lays out', () => {
  const violations: string[] = [];
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    for (const file of filesUnder(join(SRC, layer))) {
      for (const specifier of importedSpecifiers(readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue; // packages and node: built-ins
        const target = resolve(file, '..', specifier);
        const relative = target.slice(SRC.length + 1);
        const targetLayer = relative.includes('/') ? relative.split('/')[0] : relative;
        if (!target.startsWith(`${SRC}/`) || (targetLayer !== layer && !allowed.includes(targetLayer as string))) {
          violations.push(`${file.slice(SRC.length + 1)} imports ${specifier}`);
        }
      }
    }
  }
  assert.deepEqual(violations, []);
});
