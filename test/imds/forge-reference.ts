// The identity PKI as it was written with node-forge, kept to show the DER writer (src/imds/der.ts) that replaced
// it produces the same bytes: certificates and PKCS#7 SignedData alike.
import { createHash, createSign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const asn1 = forge.asn1;
const { Class, Type } = asn1;

export interface ForgeCertificate {
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
  issuer?: ForgeCertificate;
  isCa: boolean;
}

function nameAttributes(commonName: string): forge.pki.CertificateField[] {
  return [
    { name: 'organizationName', value: 'imds-hop lab' },
    { name: 'commonName', value: commonName },
  ];
}

export function forgeIssueCertificate(request: CertificateRequest): ForgeCertificate {
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

export function forgeSignedData(options: {
  content: string;
  certificate: ForgeCertificate;
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
