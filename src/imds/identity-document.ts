// The instance identity document (dynamic/instance-identity/document) and its signatures, kept until the
// document changes: signing with three keys is the costliest thing the service does.
import { ec2Json, type Ec2JsonValue } from './format.ts';
import type { IdentitySignatures, IdentitySigner } from './identity.ts';
import type { InstanceModel } from './instance.ts';

/** Version of the identity document format EC2 serves today. */
const IDENTITY_DOCUMENT_VERSION = '2017-09-30';

export interface SignedIdentity {
  document: string;
  signatures: IdentitySignatures;
}

/** Same keys, order and layout as EC2's document (EC2 User Guide, "Instance identity documents"). */
function identityDocument(i: InstanceModel): string {
  const fields: Array<readonly [string, Ec2JsonValue]> = [
    ['accountId', i.accountId],
    ['architecture', i.architecture],
    ['availabilityZone', i.availabilityZone],
    ['billingProducts', null],
    ['devpayProductCodes', null],
    ['marketplaceProductCodes', i.productCodes.length > 0 ? i.productCodes : null],
    ['imageId', i.amiId],
    ['instanceId', i.instanceId],
    ['instanceType', i.instanceType],
    ['kernelId', i.kernelId ?? null],
    ['pendingTime', i.pendingTime],
    ['privateIp', i.interfaces[0]?.localIpv4s[0] ?? null],
    ['ramdiskId', i.ramdiskId ?? null],
    ['region', i.region],
    ['version', IDENTITY_DOCUMENT_VERSION],
  ];
  return ec2Json(fields);
}

/** The identity document and its signatures, signed again only when the document changes. */
export function signedIdentityOf(instance: InstanceModel, signer: IdentitySigner): () => SignedIdentity {
  let signed: SignedIdentity | undefined;
  return () => {
    const document = identityDocument(instance);
    if (signed?.document !== document) signed = { document, signatures: signer.sign(document) };
    return signed;
  };
}
