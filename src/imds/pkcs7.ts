// PKCS#7 (RFC 2315) SignedData with the content attached and no certificates, as EC2 serves pkcs7 and rsa2048:
// AWS's verify-iid page verifies them with `openssl smime -verify -in FILE -inform PEM -certfile CERT -noverify`,
// which prints the document from inside the structure. Built with node-forge's ASN.1 writer because forge's own
// PKCS#7 signer knows only RSA; Node's crypto signs, so DSA/SHA-1 (pkcs7) and RSA/SHA-256 (rsa2048) both work.
import { createHash, createSign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { IssuedCertificate } from './lab-pki.ts';

const asn1 = forge.asn1;
const { Class, Type } = asn1;

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

const oid = (value: string) => asn1.create(Class.UNIVERSAL, Type.OID, false, asn1.oidToDer(value).getBytes());
const seq = (items: forge.asn1.Asn1[]) => asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items);
const set = (items: forge.asn1.Asn1[]) => asn1.create(Class.UNIVERSAL, Type.SET, true, items);
const octets = (bytes: Buffer) => asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, bytes.toString('binary'));
const der = (node: forge.asn1.Asn1) => Buffer.from(asn1.toDer(node).getBytes(), 'binary');
const nullValue = () => asn1.create(Class.UNIVERSAL, Type.NULL, false, '');
const explicit0 = (node: forge.asn1.Asn1) => asn1.create(Class.CONTEXT_SPECIFIC, 0, true, [node]);

function integerFromHex(hex: string): forge.asn1.Asn1 {
  const even = hex.length % 2 === 0 ? hex : `0${hex}`;
  return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, forge.util.hexToBytes(even));
}

/** DER SET OF sorts its members by their encodings (X.690 11.6); verifiers re-encode, so the MAC'd bytes must match. */
function derSetOf(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return set([...items].sort((a, b) => Buffer.compare(der(a), der(b))));
}

export function signedData(options: {
  content: string;
  certificate: IssuedCertificate;
  privateKey: KeyObject;
  algorithm: SignedDataAlgorithm;
  signingTimeMs: number;
}): Buffer {
  const content = Buffer.from(options.content, 'utf8');
  const digestName = options.algorithm === 'dsa-sha1' ? 'sha1' : 'sha256';
  const digestAlgorithm = seq([oid(OID[digestName]), nullValue()]);
  const signatureAlgorithm =
    options.algorithm === 'dsa-sha1' ? seq([oid(OID.dsaWithSha1)]) : seq([oid(OID.rsaEncryption), nullValue()]);
  const attributes = derSetOf([
    seq([oid(OID.contentType), set([oid(OID.data)])]),
    seq([
      oid(OID.signingTime),
      set([asn1.create(Class.UNIVERSAL, Type.UTCTIME, false, asn1.dateToUtcTime(new Date(options.signingTimeMs)))]),
    ]),
    seq([oid(OID.messageDigest), set([octets(createHash(digestName).update(content).digest())])]),
  ]);
  // The signature covers the attributes' DER as a SET; in the SignerInfo they sit under [0] IMPLICIT.
  const signature = createSign(digestName).update(der(attributes)).sign(options.privateKey);
  const signerInfo = seq([
    integerFromHex('01'),
    seq([options.certificate.issuerAsn1, integerFromHex(options.certificate.serialHex)]),
    digestAlgorithm,
    asn1.create(Class.CONTEXT_SPECIFIC, 0, true, attributes.value as forge.asn1.Asn1[]),
    signatureAlgorithm,
    octets(signature),
  ]);
  const body = seq([
    integerFromHex('01'),
    set([digestAlgorithm]),
    seq([oid(OID.data), explicit0(octets(content))]),
    set([signerInfo]),
  ]);
  return der(seq([oid(OID.signedData), explicit0(body)]));
}
