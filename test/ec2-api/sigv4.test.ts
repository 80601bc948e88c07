// SigV4 verification against AWS's published Signature Version 4 test suite (fixtures/sigv4-test-suite.json):
// for every vector the canonical request, the string to sign and the signature are rebuilt from the raw request
// and must equal AWS's files byte for byte; then the verifier accepts the vector and refuses every tampering.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  authorizationHeader,
  canonicalRequest,
  parseAuthorization,
  sha256Hex,
  stringToSign,
  verifySignature,
  type SignableRequest,
} from '../../src/ec2-api/sigv4.ts';

interface Vector {
  name: string;
  method: string;
  path: string;
  query: string;
  headers: Array<[string, string]>;
  body: string;
  creq: string;
  sts: string;
  authz: string;
}
const suite = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/sigv4-test-suite.json'), 'utf8')) as {
  config: { region: string; service: string; accessKeyId: string; secretAccessKey: string };
  tests: Vector[];
};
const { config } = suite;
const expect = { region: config.region, service: config.service, nowMs: 0, ignoreClock: true };

function requestOf(vector: Vector, headers = vector.headers): SignableRequest {
  return {
    method: vector.method,
    path: vector.path,
    query: vector.query,
    headers: [...headers, ['Authorization', vector.authz]],
    body: Buffer.from(vector.body),
  };
}

/** Signed headers named on the canonical request's second-to-last line. */
const creqSignedHeaders = (vector: Vector) => vector.creq.split('\n').at(-2);
/** The suite's files for this vector disagree with each other: its canonical request does not hash to its string to sign. */
const selfInconsistent = (vector: Vector) => !vector.sts.endsWith(sha256Hex(vector.creq));

describe('AWS SigV4 test suite', () => {
  assert.ok(suite.tests.length >= 20, 'the fixture holds the suite');
  test("the suite's two form-body vectors carry canonical-request files that do not match their signatures (known defects)", () => {
    assert.deepEqual(
      suite.tests.filter(selfInconsistent).map((v) => v.name),
      ['post-x-www-form-urlencoded', 'post-x-www-form-urlencoded-parameters'],
    );
  });
  for (const vector of suite.tests.filter((v) => v.name !== 'post-x-www-form-urlencoded-parameters')) {
    test(vector.name, () => {
      const request = requestOf(vector);
      const auth = parseAuthorization(request.headers);
      assert.ok(auth.ok, JSON.stringify(auth));
      assert.equal(auth.scope.accessKeyId, config.accessKeyId);
      const canonical = canonicalRequest(request, auth.signedHeaders);
      // post-x-www-form-urlencoded's creq file also lists content-length, which its signature does not cover.
      if (creqSignedHeaders(vector) === auth.signedHeaders.join(';')) assert.equal(canonical, vector.creq);
      const amzDate = vector.headers.find(([name]) => name.toLowerCase() === 'x-amz-date')?.[1] as string;
      assert.equal(stringToSign(amzDate, auth.scope, canonical), vector.sts);
      assert.deepEqual(verifySignature(request, auth, config.secretAccessKey, expect).ok, true);
      assert.equal(authorizationHeader(request, auth.scope, config.secretAccessKey, auth.signedHeaders), vector.authz);
      // Tampering with the secret, the body or a signed header is refused.
      assert.equal(verifySignature(request, auth, `${config.secretAccessKey}x`, expect).ok, false);
      assert.equal(
        verifySignature({ ...request, body: Buffer.from(`${vector.body}x`) }, auth, config.secretAccessKey, expect).ok,
        false,
      );
      const changed = request.headers.map(([name, value]): [string, string] =>
        name.toLowerCase() === 'x-amz-date' ? [name, value.replace('T12', 'T13')] : [name, value],
      );
      assert.equal(verifySignature({ ...request, headers: changed }, auth, config.secretAccessKey, expect).ok, false);
    });
  }
});

describe('verifier checks beyond the signature', () => {
  const vector = suite.tests.find((t) => t.name === 'post-x-www-form-urlencoded') as Vector;
  const request = requestOf(vector);
  const auth = parseAuthorization(request.headers);
  assert.ok(auth.ok);
  const signedAt = Date.UTC(2015, 7, 30, 12, 36, 0);

  test('a request within 15 minutes of the clock passes; beyond, it is expired', () => {
    assert.equal(
      verifySignature(request, auth, config.secretAccessKey, {
        ...expect,
        ignoreClock: false,
        nowMs: signedAt + 14 * 60_000,
      }).ok,
      true,
    );
    const late = verifySignature(request, auth, config.secretAccessKey, {
      ...expect,
      ignoreClock: false,
      nowMs: signedAt + 16 * 60_000,
    });
    assert.equal(late.ok ? 'ok' : late.reason, 'expired');
  });

  test('a scope for another region or service is refused before any HMAC', () => {
    const other = verifySignature(request, auth, config.secretAccessKey, { ...expect, region: 'eu-west-1' });
    assert.equal(other.ok ? 'ok' : other.reason, 'scope');
    const ec2 = verifySignature(request, auth, config.secretAccessKey, { ...expect, service: 'ec2' });
    assert.equal(ec2.ok ? 'ok' : ec2.reason, 'scope');
  });

  test('missing, repeated, foreign and malformed Authorization headers are refused', () => {
    const reason = (headers: Array<[string, string]>) => {
      const parsed = parseAuthorization(headers);
      return parsed.ok ? 'ok' : parsed.reason;
    };
    assert.equal(reason([]), 'missing');
    assert.equal(
      reason([
        ['Authorization', vector.authz],
        ['authorization', vector.authz],
      ]),
      'malformed',
    );
    assert.equal(reason([['Authorization', 'AWS AKIDEXAMPLE:abc']]), 'malformed');
    assert.equal(reason([['Authorization', `${vector.authz.replace('Signature=', 'Signature=zz')}`]]), 'malformed');
    assert.equal(
      reason([
        [
          'Authorization',
          'AWS4-HMAC-SHA256 Credential=AKID/2015/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00',
        ],
      ]),
      'malformed',
    );
  });

  test('an unsigned host header is refused', () => {
    const unsignedHost = { ...auth, signedHeaders: auth.signedHeaders.filter((h) => h !== 'host') };
    const result = verifySignature(request, unsignedHost, config.secretAccessKey, expect);
    assert.equal(result.ok ? 'ok' : result.reason, 'malformed');
  });
});
