// A per-appliance lab PKI for the identity signatures: a self-signed RSA CA and one leaf certificate per signing
// key, as AWS publishes one certificate per signature kind. The certificates are X.509 v3 (RFC 5280) written with
// our DER writer; the SubjectPublicKeyInfo is Node's own encoding of the key (RSA or DSA) and Node's crypto signs.
import { createPublicKey, createSign, type KeyObject } from 'node:crypto';
import {
  bitString,
  booleanTrue,
  explicit,
  integerFromHex,
  nullValue,
  octetString,
  oid,
  printableString,
  sequence,
  set,
  x509Time,
} from './der.ts';

export interface IssuedCertificate {
  pem: string;
  /** The issuer and subject Names (DER); issuer Name and serial (hex) identify it in a PKCS#7 SignerInfo. */
  issuerDer: Buffer;
  subjectDer: Buffer;
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

const OID = {
  organizationName: '2.5.4.10',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
};
const X509_V3 = '02';
/** KeyUsage bits (RFC 5280 4.2.1.3) as a BIT STRING's one byte and its unused trailing bits. */
const KEY_USAGE = {
  ca: { bits: 0x06, unused: 1 }, // keyCertSign, cRLSign
  leaf: { bits: 0x80, unused: 7 }, // digitalSignature
};

/** One RDN per attribute, values as PrintableString. */
function name(commonName: string): Buffer {
  const rdn = (type: string, value: string) => set([sequence([oid(type), printableString(value)])]);
  return sequence([rdn(OID.organizationName, 'imds-hop lab'), rdn(OID.commonName, commonName)]);
}

/** A critical extension: its OID, critical TRUE, and its value's DER in an OCTET STRING. */
const criticalExtension = (type: string, value: Buffer) => sequence([oid(type), booleanTrue(), octetString(value)]);

export function issueCertificate(request: CertificateRequest): IssuedCertificate {
  const signatureAlgorithm = sequence([oid(OID.sha256WithRSAEncryption), nullValue()]);
  const notAfter = new Date(request.notBeforeMs);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + request.years);
  const subjectDer = name(request.commonName);
  const issuerDer = request.issuer?.subjectDer ?? subjectDer;
  const usage = request.isCa ? KEY_USAGE.ca : KEY_USAGE.leaf;
  const keyUsage = criticalExtension(OID.keyUsage, bitString(Buffer.of(usage.bits), usage.unused));
  const extensions = request.isCa
    ? [criticalExtension(OID.basicConstraints, sequence([booleanTrue()])), keyUsage]
    : [keyUsage];
  const tbs = sequence([
    explicit(0, integerFromHex(X509_V3)),
    integerFromHex(request.serialHex),
    signatureAlgorithm,
    issuerDer,
    sequence([x509Time(new Date(request.notBeforeMs)), x509Time(notAfter)]),
    subjectDer,
    request.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(extensions)),
  ]);
  const signature = createSign('SHA256').update(tbs).sign(request.issuerKey);
  const der = sequence([tbs, signatureAlgorithm, bitString(signature)]);
  const pem = `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return { pem, issuerDer, subjectDer, serialHex: request.serialHex };
}

/** The public half of a private key, for certificates. */
export function publicOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}
