// Who signed an EC2 API request: the operator (keys from the config or generated at start) or the instance's role
// (keys IMDS serves — what an SSRF steals). Role keys are refused with UnauthorizedOperation unless the operator
// allows them; anything else that does not verify is AuthFailure.
import { AUTH_FAILURE_MESSAGE, Ec2ApiError, UNAUTHORIZED_MESSAGE } from './errors.ts';
import { parseAuthorization, verifySignature, type SignableRequest } from './sigv4.ts';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RoleKey extends AccessKey {
  token: string;
}

export interface CallerKeys {
  operator: AccessKey;
  /** The role credentials a client may hold now (current and still-valid previous sets). */
  roleCredentials(nowMs: number): RoleKey[];
  allowRoleCredentials: boolean;
}

type Principal = { kind: 'operator' | 'role'; accessKeyId: string };

export function authenticate(request: SignableRequest, keys: CallerKeys, region: string, nowMs: number): Principal {
  const auth = parseAuthorization(request.headers);
  if (!auth.ok) throw new Ec2ApiError('AuthFailure', `${AUTH_FAILURE_MESSAGE}: ${auth.message}`);
  const { accessKeyId } = auth.scope;
  const role = keys.roleCredentials(nowMs).find((key) => key.accessKeyId === accessKeyId);
  const secret = accessKeyId === keys.operator.accessKeyId ? keys.operator.secretAccessKey : role?.secretAccessKey;
  if (secret === undefined) throw new Ec2ApiError('AuthFailure', AUTH_FAILURE_MESSAGE);
  const verified = verifySignature(request, auth, secret, { region, service: 'ec2', nowMs });
  if (!verified.ok) {
    if (verified.reason === 'expired')
      throw new Ec2ApiError('RequestExpired', `Request has expired: ${verified.message}`);
    throw new Ec2ApiError('AuthFailure', `${AUTH_FAILURE_MESSAGE}: ${verified.message}`);
  }
  if (role === undefined) return { kind: 'operator', accessKeyId };
  // Temporary credentials are only valid with their session token, as STS issues them.
  if (verified.sessionToken !== role.token)
    throw new Ec2ApiError('AuthFailure', `${AUTH_FAILURE_MESSAGE}: the security token is missing or invalid`);
  if (!keys.allowRoleCredentials) throw new Ec2ApiError('UnauthorizedOperation', UNAUTHORIZED_MESSAGE);
  return { kind: 'role', accessKeyId };
}
