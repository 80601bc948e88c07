// PKCS#7 (RFC 2315) SignedData with the content attached and no certificates, as EC2 serves pkcs7 and rsa2048:
// AWS's verify-iid page verifies them with `openssl smime -verify -in FILE -inform PEM -certfile CERT -noverify`,
// which prints the document from inside the structure. Written with our DER writer and signed by Node's crypto,
// so DSA/SHA-1 (pkcs7) and RSA/SHA-256 (rsa2048) both work.
import { createHash, createSign, type KeyObject } from 'node:crypto';
import {
  explicit,
  implicitConstructed,
  integerFromHex,
  nullValue,
  octetString,
  oid,
  sequence,
  set,
  setOf,
  utcTime,
} from './der.ts';
import type { IssuedCertificate } from './lab-pki.ts';

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  dsaWithSha1: '1.2.840.10040.4.3',
};

type SignedDataAlgorithm = 'dsa-sha1' | 'rsa-sha256';

export function signedData(options: {
  content: string;
  certificate: IssuedCertificate;
  privateKey: KeyObject;
  algorithm: SignedDataAlgorithm;
  signingTimeMs: number;
}): Buffer {
  const content = Buffer.from(options.content, 'utf8');
  const digestName = options.algorithm === 'dsa-sha1' ? 'sha1' : 'sha256';
  const digestAlgorithm = sequence([oid(OID[digestName]), nullValue()]);
  const signatureAlgorithm =
    options.algorithm === 'dsa-sha1'
      ? sequence([oid(OID.dsaWithSha1)])
      : sequence([oid(OID.rsaEncryption), nullValue()]);
  // Verifiers re-encode the attributes as a DER SET OF (sorted) to check the signature, so they are signed sorted.
  const attributes = setOf([
    sequence([oid(OID.contentType), set([oid(OID.data)])]),
    sequence([oid(OID.signingTime), set([utcTime(new Date(options.signingTimeMs))])]),
    sequence([oid(OID.messageDigest), set([octetString(createHash(digestName).update(content).digest())])]),
  ]);
  // The signature covers the attributes' DER as a SET; in the SignerInfo they sit under [0] IMPLICIT.
  const signature = createSign(digestName).update(attributes).sign(options.privateKey);
  const signerInfo = sequence([
    integerFromHex('01'),
    sequence([options.certificate.issuerDer, integerFromHex(options.certificate.serialHex)]),
    digestAlgorithm,
    implicitConstructed(0, attributes),
    signatureAlgorithm,
    octetString(signature),
  ]);
  const body = sequence([
    integerFromHex('01'),
    set([digestAlgorithm]),
    sequence([oid(OID.data), explicit(0, octetString(content))]),
    set([signerInfo]),
  ]);
  return sequence([oid(OID.signedData), explicit(0, body)]);
}
