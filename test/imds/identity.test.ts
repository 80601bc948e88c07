// The identity signatures, verified with the exact openssl recipes of AWS's "Verify the instance identity
// document" page (curl replaced by the bytes the engine serves), each with its own certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOW_MS, bodyText, get, identitySigner, makeEngine } from './helpers.ts';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

function withServedFiles(run: (dir: string, sh: (script: string) => ReturnType<typeof spawnSync>) => void): void {
  const { engine } = makeEngine();
  const dir = mkdtempSync(join(tmpdir(), 'imds-identity-'));
  try {
    for (const name of ['document', 'signature', 'pkcs7', 'rsa2048']) {
      writeFileSync(
        join(dir, `served-${name}`),
        bodyText(engine.handle(get(`/latest/dynamic/instance-identity/${name}`), NOW_MS).body),
      );
    }
    for (const kind of ['signature', 'pkcs7', 'rsa2048', 'ca'] as const)
      writeFileSync(join(dir, `cert-${kind}`), engine.identityCertificate(kind));
    // pipefail: the recipe pipes openssl into tee, and a failed verification must fail the script.
    run(dir, (script) => spawnSync('bash', ['-ec', `set -o pipefail\n${script}`], { cwd: dir, encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** AWS's recipe for pkcs7 and rsa2048: armour the served body, then `openssl smime -verify … | tee document`. */
function smimeRecipe(kind: 'pkcs7' | 'rsa2048', certificate: string): string {
  return `rm -f ${kind} document
echo "-----BEGIN PKCS7-----" >> ${kind} && cat served-${kind} >> ${kind} && echo "" >> ${kind} && echo "-----END PKCS7-----" >> ${kind}
openssl smime -verify -in ${kind} -inform PEM -certfile ${certificate} -noverify | tee document`;
}

/** AWS's recipe for the base64 signature: decode it, take the certificate's public key, `openssl dgst -verify`. */
function signatureRecipe(certificate: string): string {
  return `rm -f signature key
base64 -d < served-signature >> signature
openssl x509 -pubkey -noout -in ${certificate} >> key
openssl dgst -sha256 -verify key -signature signature served-document`;
}

test(
  "the three signatures verify with the three certificates, exactly as AWS's verify-iid page does it",
  { skip: !hasOpenssl && 'openssl CLI not installed' },
  () => {
    withServedFiles((_dir, sh) => {
      for (const kind of ['pkcs7', 'rsa2048'] as const) {
        const result = sh(smimeRecipe(kind, `cert-${kind}`));
        assert.equal(result.status, 0, `${kind}: ${result.stderr}`);
        assert.match(String(result.stderr), /Verification successful/);
        const served = sh('cat served-document');
        assert.equal(result.stdout, served.stdout, `${kind} carries the document, which tee writes out`);
      }
      const signature = sh(signatureRecipe('cert-signature'));
      assert.equal(signature.status, 0, String(signature.stderr));
      assert.equal(signature.stdout, 'Verified OK\n');
    });
  },
);

test(
  'each signature verifies only with its own certificate',
  { skip: !hasOpenssl && 'openssl CLI not installed' },
  () => {
    withServedFiles((_dir, sh) => {
      assert.notEqual(sh(smimeRecipe('pkcs7', 'cert-rsa2048')).status, 0);
      assert.notEqual(sh(smimeRecipe('rsa2048', 'cert-pkcs7')).status, 0);
      assert.notEqual(sh(smimeRecipe('rsa2048', 'cert-signature')).status, 0);
      assert.notEqual(sh(signatureRecipe('cert-rsa2048')).status, 0);
    });
  },
);

test(
  'pkcs7 is DSA over SHA-1, rsa2048 RSA-2048 over SHA-256; the lab CA issued all three certificates',
  { skip: !hasOpenssl && 'openssl CLI not installed' },
  () => {
    withServedFiles((_dir, sh) => {
      const dsa = sh('openssl x509 -noout -text -in cert-pkcs7');
      assert.match(String(dsa.stdout), /Public Key Algorithm: dsaEncryption/);
      const rsa = sh('openssl x509 -noout -text -in cert-rsa2048');
      assert.match(String(rsa.stdout), /Public-Key: \(2048 bit\)/);
      const pkcs7 = sh(`${smimeRecipe('pkcs7', 'cert-pkcs7')} > /dev/null; openssl asn1parse -inform PEM -in pkcs7`);
      assert.match(String(pkcs7.stdout), /:sha1\b/);
      assert.match(String(pkcs7.stdout), /:dsaWithSHA1\b/);
      const rsa2048 = sh(
        `${smimeRecipe('rsa2048', 'cert-rsa2048')} > /dev/null; openssl asn1parse -inform PEM -in rsa2048`,
      );
      assert.match(String(rsa2048.stdout), /:sha256\b/);
      assert.match(String(rsa2048.stdout), /:rsaEncryption\b/);
      const chain = sh('openssl verify -CAfile cert-ca cert-signature cert-pkcs7 cert-rsa2048');
      assert.equal(chain.status, 0, String(chain.stdout) + String(chain.stderr));
      const subjects = sh(
        'for c in cert-signature cert-pkcs7 cert-rsa2048; do openssl x509 -noout -subject -in $c; done',
      );
      assert.equal(new Set(String(subjects.stdout).trim().split('\n')).size, 3, 'three distinct certificates');
    });
  },
);

test('a changed document does not verify', { skip: !hasOpenssl && 'openssl CLI not installed' }, () => {
  withServedFiles((_dir, sh) => {
    sh(smimeRecipe('rsa2048', 'cert-rsa2048'));
    const tampered = sh(`sed 's/t3.micro/t3.large/' served-document > tampered
openssl smime -verify -in rsa2048 -inform PEM -content tampered -certfile cert-rsa2048 -noverify > /dev/null`);
    assert.notEqual(tampered.status, 0);
    const signature = sh(`base64 -d < served-signature > signature; openssl x509 -pubkey -noout -in cert-signature > key
sed 's/t3.micro/t3.large/' served-document > tampered; openssl dgst -sha256 -verify key -signature signature tampered`);
    assert.notEqual(signature.status, 0);
  });
});

test('the engine signs a document once: repeated fetches serve the same pkcs7 (DSA signatures are randomised)', () => {
  const { engine } = makeEngine();
  const fetch = () => bodyText(engine.handle(get('/latest/dynamic/instance-identity/pkcs7'), NOW_MS).body);
  assert.equal(fetch(), fetch());
  assert.notEqual(
    identitySigner().sign('{}').pkcs7,
    identitySigner().sign('{}').pkcs7,
    'a fresh DSA signature differs each time',
  );
});
