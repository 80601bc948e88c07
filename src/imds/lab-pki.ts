// A per-appliance lab PKI for the identity signatures: a self-signed RSA CA and one leaf certificate per signing
// key, as AWS publishes one certificate per signature kind. node-forge builds the TBSCertificate (it cannot hold
// a DSA key, so the leaf's SubjectPublicKeyInfo is spliced in from Node's own encoding) and Node's crypto signs.
import { createSign, createPublicKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const asn1 = forge.asn1;

export interface IssuedCertificate {
  pem: string;
  /** The issuer Name and serial (hex) identify the certificate in a PKCS#7 SignerInfo. */
  issuerAsn1: forge.asn1.Asn1;
  subjectAsn1: forge.asn1.Asn1;
  serialHex: string;
}

interface CertificateRequest {
  commonName: string;
  serialHex: string;
  notBeforeMs: number;
  years: number;
  /** The certified key. */
  publicKey: KeyObject;
  /** Signs the certificate (RSA, SHA-256); for the CA, its own private key. */
  issuerKey: KeyObject;
  /** The issuer's name; absent for a self-signed CA. */
  issuer?: IssuedCertificate;
  isCa: boolean;
}

function nameAttributes(commonName: string): forge.pki.CertificateField[] {
  return [
    { name: 'organizationName', value: 'imds-hop lab' },
    { name: 'commonName', value: commonName },
  ];
}

export function issueCertificate(request: CertificateRequest): IssuedCertificate {
  const certificate = forge.pki.createCertificate();
  // A placeholder RSA key lets forge lay out the TBSCertificate; its SubjectPublicKeyInfo is replaced below.
  const placeholder = forge.pki.rsa.setPublicKey(new forge.jsbn.BigInteger('3'), new forge.jsbn.BigInteger('3'));
  certificate.publicKey = placeholder;
  certificate.serialNumber = request.serialHex;
  certificate.validity.notBefore = new Date(request.notBeforeMs);
  const notAfter = new Date(request.notBeforeMs);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + request.years);
  certificate.validity.notAfter = notAfter;
  const subject = nameAttributes(request.commonName);
  certificate.setSubject(subject);
  certificate.setIssuer(subject); // replaced by the issuer's Name below when there is one
  if (request.isCa)
    certificate.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ]);
  else certificate.setExtensions([{ name: 'keyUsage', digitalSignature: true, critical: true }]);
  certificate.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  certificate.signatureOid = forge.pki.oids.sha256WithRSAEncryption;

  // forge exports getTBSCertificate at run time; its typings leave it out.
  const tbs = (
    forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
  ).getTBSCertificate(certificate);
  const fields = tbs.value as forge.asn1.Asn1[];
  // [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, [3] extensions
  const issuerAsn1 = request.issuer?.subjectAsn1 ?? forge.pki.distinguishedNameToAsn1(certificate.subject);
  fields[3] = issuerAsn1;
  const spkiDer = request.publicKey.export({ type: 'spki', format: 'der' });
  fields[6] = asn1.fromDer(forge.util.createBuffer(spkiDer.toString('binary')));

  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = createSign('SHA256').update(tbsDer).sign(request.issuerKey);
  const signed = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(
        asn1.Class.UNIVERSAL,
        asn1.Type.OID,
        false,
        asn1.oidToDer(forge.pki.oids.sha256WithRSAEncryption).getBytes(),
      ),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + signature.toString('binary')),
  ]);
  const der = Buffer.from(asn1.toDer(signed).getBytes(), 'binary');
  const pem = `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return {
    pem,
    issuerAsn1,
    subjectAsn1: forge.pki.distinguishedNameToAsn1(certificate.subject),
    serialHex: request.serialHex,
  };
}

/** The public half of a private key, for certificates. */
export function publicOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}
