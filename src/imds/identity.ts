// Signs the instance identity document the three ways EC2 publishes it. EC2 signs with AWS's regional keys; here
// the operator's RSA key and a self-signed certificate for it stand in, so clients verify with that certificate.
// Deviation: EC2's `pkcs7` uses DSA/SHA-1; ours is RSA/SHA-256 like `rsa2048`, since node-forge has no DSA.
import { createSign } from 'node:crypto';
import forge from 'node-forge';
import { wrappedBase64 } from './format.ts';

export interface IdentitySignatures {
  /** Base64 RSA-SHA256 signature of the document bytes. */
  signature: string;
  /** PKCS#7 SignedData with the document attached, base64 without PEM armour. */
  pkcs7: string;
  /** Same structure as pkcs7 (RSA, SHA-256), base64 without PEM armour. */
  rsa2048: string;
}

export interface IdentitySigner {
  certificatePem: string;
  sign(document: string): IdentitySignatures;
}

export interface IdentitySignerOptions {
  privateKeyPem: string;
  commonName?: string;
  /** Start of the certificate's validity and the PKCS#7 signing time. */
  nowMs: number;
}

const CERTIFICATE_YEARS = 10;

export function createIdentitySigner(options: IdentitySignerOptions): IdentitySigner {
  const privateKey = forge.pki.privateKeyFromPem(options.privateKeyPem) as forge.pki.rsa.PrivateKey;
  const publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = publicKey;
  // Positive serial: a leading 01 byte keeps the DER integer's sign bit clear.
  certificate.serialNumber = '01' + Math.floor(options.nowMs).toString(16).padStart(16, '0');
  const notBefore = new Date(options.nowMs);
  const notAfter = new Date(options.nowMs);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CERTIFICATE_YEARS);
  certificate.validity.notBefore = notBefore;
  certificate.validity.notAfter = notAfter;
  const name = [
    { name: 'commonName', value: options.commonName ?? 'imds-hop instance identity' },
    { name: 'organizationName', value: 'imds-hop' },
  ];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.sign(privateKey, forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(certificate);

  const signedData = (document: string): string => {
    const p7 = forge.pkcs7.createSignedData();
    p7.content = forge.util.createBuffer(forge.util.encodeUtf8(document));
    // The certificate is left out, as in EC2's: verifiers bring the published certificate.
    p7.addSigner({
      key: privateKey,
      certificate,
      digestAlgorithm: forge.pki.oids.sha256,
      authenticatedAttributes: [
        { type: forge.pki.oids.contentType, value: forge.pki.oids.data },
        { type: forge.pki.oids.messageDigest },
        { type: forge.pki.oids.signingTime, value: notBefore as unknown as string },
      ],
    });
    p7.sign();
    const der = forge.asn1.toDer(p7.toAsn1()).getBytes();
    return wrappedBase64(Buffer.from(der, 'binary'));
  };

  return {
    certificatePem,
    sign(document: string): IdentitySignatures {
      const signer = createSign('RSA-SHA256');
      signer.update(document, 'utf8');
      const signature = wrappedBase64(signer.sign(options.privateKeyPem));
      const pkcs7 = signedData(document);
      return { signature, pkcs7, rsa2048: pkcs7 };
    },
  };
}
