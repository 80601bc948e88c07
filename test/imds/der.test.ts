// The DER writer and the lab PKI built on it give, byte for byte, what the node-forge code they replaced gave:
// certificates (CA and leaves, RSA and DSA keys, either side of 2050) and PKCS#7 SignedData.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import forge from 'node-forge';
import { oid } from '../../src/imds/der.ts';
import { issueCertificate } from '../../src/imds/lab-pki.ts';
import { signedData } from '../../src/imds/pkcs7.ts';
import { forgeIssueCertificate, forgeSignedData } from './forge-reference.ts';

const caKey = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
const caPublicKey = createPublicKey(caKey);
const rsaLeaf = generateKeyPairSync('rsa', { modulusLength: 1024 });
const dsaLeaf = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });

const PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?".split('');
const request = fc.record({
  commonName: fc.array(fc.constantFrom(...PRINTABLE), { minLength: 1, maxLength: 90 }).map((c) => c.join('')),
  // a leading 01 keeps the serial positive, as identity.ts makes them
  serialHex: fc.array(fc.constantFrom(...'0123456789abcdef'), { maxLength: 38 }).map((d) => `01${d.join('')}`),
  notBeforeMs: fc.oneof(
    fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2200, 0, 1) }),
    // either side of 2050, where X.509 switches from UTCTime to GeneralizedTime
    fc.constantFrom(Date.UTC(2049, 11, 31, 23, 59, 59), Date.UTC(2050, 0, 1), Date.UTC(1950, 0, 1)),
  ),
  years: fc.integer({ min: 1, max: 60 }),
});

describe('DER writer against the node-forge code it replaced', () => {
  it('issues the same CA and leaf certificates (RSA and DSA leaf keys)', () => {
    fc.assert(
      fc.property(request, request, fc.boolean(), (caFields, leafFields, dsa) => {
        const ca = { ...caFields, publicKey: caPublicKey, issuerKey: caKey, isCa: true };
        const ours = issueCertificate(ca);
        const theirs = forgeIssueCertificate(ca);
        assert.equal(ours.pem, theirs.pem);
        const leaf = { ...leafFields, publicKey: (dsa ? dsaLeaf : rsaLeaf).publicKey, issuerKey: caKey, isCa: false };
        assert.equal(
          issueCertificate({ ...leaf, issuer: ours }).pem,
          forgeIssueCertificate({ ...leaf, issuer: theirs }).pem,
        );
      }),
      { numRuns: 40 },
    );
  });

  it('builds the same PKCS#7 SignedData for both layouts', () => {
    // RSA signs both layouts here: its signatures are deterministic, DSA's are not, and the layout is what differs.
    const leafFields = { commonName: 'leaf', serialHex: '0102', notBeforeMs: Date.UTC(2026, 0, 1), years: 10 };
    const leaf = { ...leafFields, publicKey: rsaLeaf.publicKey, issuerKey: caKey, isCa: false };
    const ours = issueCertificate(leaf);
    const theirs = forgeIssueCertificate(leaf);
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 400 }),
        fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2049, 11, 31) }),
        fc.constantFrom('dsa-sha1', 'rsa-sha256'),
        (content, signingTimeMs, algorithm) => {
          const options = { content, privateKey: rsaLeaf.privateKey, algorithm, signingTimeMs } as const;
          assert.deepEqual(
            signedData({ ...options, certificate: ours }),
            forgeSignedData({ ...options, certificate: theirs }),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('encodes object identifiers as forge does, arcs of any size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 39 }),
        fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 8 }),
        (first, second, rest) => {
          const dotted = [first, second, ...rest].join('.');
          const theirs = forge.asn1.create(
            forge.asn1.Class.UNIVERSAL,
            forge.asn1.Type.OID,
            false,
            forge.asn1.oidToDer(dotted).getBytes(),
          );
          assert.deepEqual(oid(dotted), Buffer.from(forge.asn1.toDer(theirs).getBytes(), 'binary'));
        },
      ),
    );
  });
});
