import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createVerify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOW_MS, bodyText, get, identitySigner, makeEngine } from './helpers.ts';

function armour(base64: string): string {
  const flat = base64.replace(/\n/g, '');
  return `-----BEGIN PKCS7-----\n${flat.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PKCS7-----\n`;
}

test('identity document signature, pkcs7 and rsa2048 verify against the signer certificate', (t) => {
  const { engine } = makeEngine();
  const fetch = (name: string) => bodyText(engine.handle(get(`/latest/dynamic/instance-identity/${name}`), NOW_MS).body);
  const document = fetch('document');
  const signer = identitySigner();

  const verifier = createVerify('RSA-SHA256');
  verifier.update(document);
  assert.ok(verifier.verify(signer.certificatePem, Buffer.from(fetch('signature').replace(/\n/g, ''), 'base64')));

  const openssl = spawnSync('openssl', ['version']);
  if (openssl.status !== 0) {
    t.skip('openssl CLI not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'imds-identity-'));
  try {
    writeFileSync(join(dir, 'document'), document);
    writeFileSync(join(dir, 'cert.pem'), signer.certificatePem);
    for (const name of ['pkcs7', 'rsa2048']) {
      writeFileSync(join(dir, name), armour(fetch(name)));
      const result = spawnSync(
        'openssl',
        ['smime', '-verify', '-inform', 'PEM', '-in', join(dir, name), '-content', join(dir, 'document'), '-certfile', join(dir, 'cert.pem'), '-noverify'],
        { encoding: 'utf8' },
      );
      assert.equal(result.status, 0, `${name}: ${result.stderr}`);
      assert.equal(result.stdout, document, `${name} carries the document`);
    }
    writeFileSync(join(dir, 'tampered'), document.replace('t3.micro', 't3.large'));
    const tampered = spawnSync(
      'openssl',
      ['smime', '-verify', '-inform', 'PEM', '-in', join(dir, 'rsa2048'), '-content', join(dir, 'tampered'), '-certfile', join(dir, 'cert.pem'), '-noverify'],
      { encoding: 'utf8' },
    );
    assert.notEqual(tampered.status, 0, 'a changed document must not verify');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
