// Signs the instance identity document the three ways EC2 publishes it (EC2 User Guide, "Verify the instance
// identity document"): `signature` is RSA over SHA-256, `pkcs7` DSA over SHA-1, `rsa2048` RSA-2048 over SHA-256,
// each verified with its own certificate. EC2 uses AWS's regional keys; here a per-appliance lab CA issues one
// certificate per key, so clients verify with `imds-hop identity-cert --kind KIND` exactly as AWS's page shows.
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { wrappedBase64 } from './format.ts';
import { issueCertificate, publicOf, type IssuedCertificate } from './lab-pki.ts';
import { signedData } from './pkcs7.ts';

export type SignatureKind = 'signature' | 'pkcs7' | 'rsa2048';
const SIGNATURE_KINDS: readonly SignatureKind[] = ['signature', 'pkcs7', 'rsa2048'];
/** What `identity-cert --kind` prints: a signature kind's certificate, or the lab CA that issued all three. */
export type CertificateKind = SignatureKind | 'ca';
export const CERTIFICATE_KINDS: readonly CertificateKind[] = [...SIGNATURE_KINDS, 'ca'];

export interface IdentitySignatures {
  /** Base64 RSA-SHA256 signature of the document bytes. */
  signature: string;
  /** PKCS#7 SignedData, DSA over SHA-1, document attached, base64 without PEM armour. */
  pkcs7: string;
  /** PKCS#7 SignedData, RSA-2048 over SHA-256, document attached, base64 without PEM armour. */
  rsa2048: string;
}

export interface IdentitySigner {
  /** PEM certificate per kind: the three signing certificates and the lab CA. */
  certificates: Readonly<Record<CertificateKind, string>>;
  sign(document: string): IdentitySignatures;
}

/** PEM private keys (PKCS#8): the lab CA (RSA) and one per signature kind (RSA, DSA, RSA-2048). */
export type IdentityKeys = Readonly<Record<'ca' | SignatureKind, string>>;

/** Key shapes per role, for whoever generates IdentityKeys (AWS's DSA certificates are 1024-bit). */
export const IDENTITY_KEY_SPECS = {
  ca: { type: 'rsa', modulusLength: 2048 },
  signature: { type: 'rsa', modulusLength: 2048 },
  pkcs7: { type: 'dsa', modulusLength: 1024, divisorLength: 160 },
  rsa2048: { type: 'rsa', modulusLength: 2048 },
} as const;

interface IdentitySignerOptions {
  keys: IdentityKeys;
  /** Start of the certificates' validity and the PKCS#7 signing time. */
  nowMs: number;
}

const CERTIFICATE_YEARS = 10;
const KEY_KINDS: Record<SignatureKind, 'rsa' | 'dsa'> = { signature: 'rsa', pkcs7: 'dsa', rsa2048: 'rsa' };

export function createIdentitySigner(options: IdentitySignerOptions): IdentitySigner {
  const key = (role: keyof IdentityKeys): KeyObject => createPrivateKey(options.keys[role]);
  const caKey = key('ca');
  for (const kind of SIGNATURE_KINDS) {
    if (key(kind).asymmetricKeyType !== KEY_KINDS[kind])
      throw new Error(`identity key for ${kind} must be ${KEY_KINDS[kind].toUpperCase()}`);
  }
  // Serials: distinct, positive (a leading 01 keeps the DER integer's sign bit clear), fixed by the boot time.
  const serial = (n: number) =>
    `01${Math.floor(options.nowMs).toString(16).padStart(12, '0')}${n.toString(16).padStart(2, '0')}`;
  const ca = issueCertificate({
    commonName: 'imds-hop lab instance identity CA',
    serialHex: serial(0),
    notBeforeMs: options.nowMs,
    years: CERTIFICATE_YEARS,
    publicKey: publicOf(caKey),
    issuerKey: caKey,
    isCa: true,
  });
  const leaves = {} as Record<SignatureKind, IssuedCertificate>;
  SIGNATURE_KINDS.forEach((kind, index) => {
    leaves[kind] = issueCertificate({
      commonName: `imds-hop lab instance identity ${kind}`,
      serialHex: serial(index + 1),
      notBeforeMs: options.nowMs,
      years: CERTIFICATE_YEARS,
      publicKey: publicOf(key(kind)),
      issuerKey: caKey,
      issuer: ca,
      isCa: false,
    });
  });
  const signatureKey = key('signature');
  const pkcs7Key = key('pkcs7');
  const rsa2048Key = key('rsa2048');

  return {
    certificates: { signature: leaves.signature.pem, pkcs7: leaves.pkcs7.pem, rsa2048: leaves.rsa2048.pem, ca: ca.pem },
    sign(document: string): IdentitySignatures {
      const signature = createSign('SHA256').update(document, 'utf8').sign(signatureKey);
      return {
        signature: wrappedBase64(signature),
        pkcs7: wrappedBase64(
          signedData({
            content: document,
            certificate: leaves.pkcs7,
            privateKey: pkcs7Key,
            algorithm: 'dsa-sha1',
            signingTimeMs: options.nowMs,
          }),
        ),
        rsa2048: wrappedBase64(
          signedData({
            content: document,
            certificate: leaves.rsa2048,
            privateKey: rsa2048Key,
            algorithm: 'rsa-sha256',
            signingTimeMs: options.nowMs,
          }),
        ),
      };
    },
  };
}
