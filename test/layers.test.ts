// The layer table of DESIGN.md, enforced: each folder of src/ imports only the layers below it, so wire and tcp
// never learn about metadata and imds never learns about packets.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../src');

/** Folder → the folders of ours it may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  wire: [],
  tcp: ['wire'],
  http: [],
  imds: [],
  link: ['wire'],
  faults: [],
  config: ['imds', 'faults'],
  lab: ['wire', 'link'],
  callers: ['imds', 'link'],
  'ec2-api': ['imds'],
  appliance: ['wire', 'tcp', 'http', 'imds', 'link', 'config', 'faults', 'callers', 'ec2-api'],
  types: [],
};

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(folder, entry.name)) : entry.name.endsWith('.ts') ? [join(folder, entry.name)] : [],
  );
}

test('every folder of src/ has a place in the layer table', () => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(folders.filter((name) => !(name in ALLOWED)), []);
});

test('imports flow one way, as DESIGN.md lays out', () => {
  const violations: string[] = [];
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    for (const file of filesUnder(join(SRC, layer))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/from '(\.\.\/[^']+)'/g)) {
        const target = resolve(file, '..', match[1] as string);
        const relative = target.slice(SRC.length + 1);
        const targetLayer = relative.includes('/') ? relative.split('/')[0] : relative.replace(/\.ts$/, '');
        if (targetLayer !== layer && !allowed.includes(targetLayer as string)) {
          violations.push(`${file.slice(SRC.length + 1)} imports ${relative}`);
        }
      }
    }
  }
  assert.deepEqual(violations, []);
});
