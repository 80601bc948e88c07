// The seed exercise with the real AWS CLI (Debian's awscli) and botocore against the appliance's EC2 API:
//
//   [namespace ihNNNec2] aws ec2 ... --endpoint-url http://127.0.0.1:9470 ──> imds-hop EC2 API (loopback)
//                        curl http://169.254.169.254 ──tap──> imds-hop IMDS
//
// describe-instances --query prints id, private IP and tags; modify-instance-metadata-options --http-tokens
// required answers pending, then IMDSv1 gets 401 and describe-instances shows applied; a wrong secret gets
// AuthFailure; role credentials taken from IMDS get UnauthorizedOperation; account defaults apply at the next launch.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Appliance,
  REPO_ROOT,
  SERVICE_ADDRESS,
  cleanupAll,
  createNamespace,
  imdsHop,
  inNamespace,
  skipUnlessRoot,
  sweepStaleNamespaces,
  temporaryDirectory,
} from './harness.ts';
import { defaultInstance } from '../../src/imds/instance.ts';

const INSTANCE = defaultInstance();
const ENDPOINT = 'http://127.0.0.1:9470';
const SEED_QUERY = 'Reservations[*].Instances[*].[InstanceId,PrivateIpAddress,Tags]';
/** Debian's awscli first (what install.sh installs), else whatever is on PATH. */
const AWS = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';
const skip =
  skipUnlessRoot ||
  (AWS === 'aws' && process.env.PATH?.split(':').every((dir) => !existsSync(join(dir, 'aws'))) ? 'no aws CLI' : false);

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

describe('the seed exercise with the AWS CLI against the EC2 API', { skip }, () => {
  let namespace: string;
  let appliance: Appliance;
  let work: string;
  let configFile: string;
  let operator: Keys;

  /** The AWS CLI isolated from the host's ~/.aws, signed with the given keys, in the appliance's namespace. */
  const aws = (keys: Keys, args: string[], binary = AWS) =>
    inNamespace(
      namespace,
      'env',
      [
        `AWS_ACCESS_KEY_ID=${keys.accessKeyId}`,
        `AWS_SECRET_ACCESS_KEY=${keys.secretAccessKey}`,
        ...(keys.sessionToken ? [`AWS_SESSION_TOKEN=${keys.sessionToken}`] : []),
        `AWS_DEFAULT_REGION=${INSTANCE.region}`,
        `AWS_CONFIG_FILE=${join(work, 'aws-config')}`,
        `AWS_SHARED_CREDENTIALS_FILE=${join(work, 'aws-credentials')}`,
        'AWS_EC2_METADATA_DISABLED=true',
        'AWS_PAGER=',
        binary,
        'ec2',
        ...args,
        '--endpoint-url',
        ENDPOINT,
        '--output',
        'json',
      ],
      60_000,
    );

  const v1Status = async () =>
    (
      await inNamespace(namespace, 'curl', [
        '-sS',
        '--max-time',
        '10',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://${SERVICE_ADDRESS}/latest/meta-data/instance-id`,
      ])
    ).stdout;

  const metadataState = async () => {
    const shown = await aws(operator, [
      'describe-instances',
      '--query',
      'Reservations[0].Instances[0].MetadataOptions',
    ]);
    assert.equal(shown.code, 0, shown.stderr);
    return JSON.parse(shown.stdout) as { State: string; HttpTokens: string; HttpPutResponseHopLimit: number };
  };

  const start = async () => {
    appliance = await Appliance.start(namespace, ['--config', configFile, '--log-level', 'info']);
    const printed = await imdsHop(['ec2-api', 'credentials', '--interface', appliance.interfaceName]);
    assert.equal(printed.code, 0, printed.stderr);
    const value = (name: string) => new RegExp(`^export ${name}=(.+)$`, 'm').exec(printed.stdout)?.[1] as string;
    assert.equal(value('AWS_ENDPOINT_URL_EC2'), ENDPOINT);
    assert.equal(value('AWS_DEFAULT_REGION'), INSTANCE.region);
    operator = { accessKeyId: value('AWS_ACCESS_KEY_ID'), secretAccessKey: value('AWS_SECRET_ACCESS_KEY') };
    assert.match(operator.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
  };

  before(async () => {
    sweepStaleNamespaces();
    namespace = createNamespace('ec2');
    work = temporaryDirectory();
    configFile = join(work, 'imds-hop.ini');
    writeFileSync(
      configFile,
      `[ec2-api]\naccount-defaults-file = ${join(work, 'account-defaults.json')}\napply-delay-ms = 500\n`,
    );
    await start();
  });

  after(async () => {
    await appliance?.stop();
    cleanupAll();
  });

  test("the seed's describe-instances --query prints the instance id, private IP and tags", async () => {
    const result = await aws(operator, ['describe-instances', '--query', SEED_QUERY]);
    assert.equal(result.code, 0, result.stderr);
    const tags = Object.entries(INSTANCE.tags).map(([Key, Value]) => ({ Key, Value }));
    assert.deepEqual(JSON.parse(result.stdout), [[[INSTANCE.instanceId, INSTANCE.interfaces[0]?.localIpv4s[0], tags]]]);
  });

  test('botocore parses DescribeInstances: placement, type, image and metadata options', async () => {
    const result = await inNamespace(namespace, 'env', [
      `AWS_ACCESS_KEY_ID=${operator.accessKeyId}`,
      `AWS_SECRET_ACCESS_KEY=${operator.secretAccessKey}`,
      `AWS_DEFAULT_REGION=${INSTANCE.region}`,
      '/usr/bin/python3',
      join(REPO_ROOT, 'test/integration/clients/botocore-ec2.py'),
      ENDPOINT,
      INSTANCE.instanceId,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const instance = JSON.parse(result.stdout).Reservations[0].Instances[0];
    assert.equal(instance.ImageId, INSTANCE.amiId);
    assert.equal(instance.InstanceType, INSTANCE.instanceType);
    assert.equal(instance.Placement.AvailabilityZone, INSTANCE.availabilityZone);
    assert.equal(instance.State.Name, 'running');
    assert.deepEqual(instance.MetadataOptions, {
      State: 'applied',
      HttpTokens: 'optional',
      HttpPutResponseHopLimit: 1,
      HttpEndpoint: 'enabled',
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'disabled',
    });
  });

  test('an instance id that is not this one gets InvalidInstanceID.NotFound', async () => {
    const result = await aws(operator, ['describe-instances', '--instance-ids', 'i-0123456789abcdef0']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /InvalidInstanceID\.NotFound/);
  });

  test('modify-instance-metadata-options --http-tokens required: pending, then applied, and IMDSv1 gets 401', async () => {
    assert.equal(await v1Status(), '200');
    const modified = await aws(operator, [
      'modify-instance-metadata-options',
      '--http-endpoint',
      'enabled',
      '--http-tokens',
      'required',
      '--instance-id',
      INSTANCE.instanceId,
    ]);
    assert.equal(modified.code, 0, modified.stderr);
    const answer = JSON.parse(modified.stdout);
    assert.equal(answer.InstanceId, INSTANCE.instanceId);
    assert.equal(answer.InstanceMetadataOptions.State, 'pending');
    assert.equal(answer.InstanceMetadataOptions.HttpTokens, 'required');
    const deadline = Date.now() + 30_000;
    let options = await metadataState();
    while (options.State !== 'applied' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      options = await metadataState();
    }
    assert.equal(options.State, 'applied');
    assert.equal(options.HttpTokens, 'required');
    assert.equal(await v1Status(), '401');
    // `imds-hop options` reports the same state in the API's names.
    const shown = await imdsHop(['options', '--interface', appliance.interfaceName]);
    assert.deepEqual(JSON.parse(shown.stdout).InstanceMetadataOptions.State, 'applied');
  });

  test('a wrong secret key gets AuthFailure', async () => {
    const result = await aws({ ...operator, secretAccessKey: `${operator.secretAccessKey.slice(0, -4)}AAAA` }, [
      'describe-instances',
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /AuthFailure/);
  });

  test('role credentials served by IMDS get UnauthorizedOperation', async () => {
    const token = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '10',
      '-X',
      'PUT',
      `http://${SERVICE_ADDRESS}/latest/api/token`,
      '-H',
      'X-aws-ec2-metadata-token-ttl-seconds: 300',
    ]);
    assert.equal(token.code, 0, token.stderr);
    const served = await inNamespace(namespace, 'curl', [
      '-sS',
      '--max-time',
      '10',
      '-H',
      `X-aws-ec2-metadata-token: ${token.stdout}`,
      `http://${SERVICE_ADDRESS}/latest/meta-data/iam/security-credentials/${INSTANCE.iamRole?.name}`,
    ]);
    const stolen = JSON.parse(served.stdout) as { AccessKeyId: string; SecretAccessKey: string; Token: string };
    const result = await aws(
      { accessKeyId: stolen.AccessKeyId, secretAccessKey: stolen.SecretAccessKey, sessionToken: stolen.Token },
      ['describe-instances'],
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /UnauthorizedOperation/);
    // Never in the log: the secret or the session token of either principal.
    const log = JSON.stringify(appliance.records);
    for (const secret of [stolen.SecretAccessKey, stolen.Token, operator.secretAccessKey])
      assert.ok(!log.includes(secret));
  });

  test('account defaults (modify-instance-metadata-defaults) apply at the next launch', async (t) => {
    // Debian's awscli (2022) predates the 2024 action; use an AWS CLI that knows it, if the host has one.
    const candidates = [AWS, 'aws'];
    let binary: string | undefined;
    let modified;
    for (const candidate of candidates) {
      modified = await aws(
        operator,
        ['modify-instance-metadata-defaults', '--http-put-response-hop-limit', '3', '--http-tokens', 'required'],
        candidate,
      );
      if (!/Invalid choice/.test(modified.stderr)) {
        binary = candidate;
        break;
      }
    }
    if (binary === undefined) {
      t.skip('no AWS CLI here knows modify-instance-metadata-defaults');
      return;
    }
    assert.equal(modified?.code, 0, modified?.stderr);
    assert.equal(JSON.parse(modified?.stdout ?? '').Return, true);
    const got = await aws(operator, ['get-instance-metadata-defaults'], binary);
    assert.deepEqual(JSON.parse(got.stdout).AccountLevel, { HttpTokens: 'required', HttpPutResponseHopLimit: 3 });
    // The running instance keeps its options; the next launch takes the defaults.
    assert.equal((await metadataState()).HttpPutResponseHopLimit, 1);
    await appliance.stop();
    await start();
    const relaunched = await metadataState();
    assert.equal(relaunched.HttpPutResponseHopLimit, 3);
    assert.equal(relaunched.HttpTokens, 'required');
    assert.equal(await v1Status(), '401');
  });
});

describe(
  "launch options: the AMI's ImdsSupport under launch parameters, and imds-hop options in the API's names",
  { skip: skipUnlessRoot },
  () => {
    let namespace: string;
    const appliances: Appliance[] = [];
    const options = async (appliance: Appliance, args: string[] = []) => {
      const result = await imdsHop(['options', '--interface', appliance.interfaceName, ...args]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as { InstanceId: string; InstanceMetadataOptions: Record<string, unknown> };
    };

    before(() => {
      sweepStaleNamespaces();
      namespace = createNamespace('ami');
    });

    after(async () => {
      for (const appliance of appliances) await appliance.stop();
      cleanupAll();
    });

    test('--imds-support v2.0 launches with tokens required and hop limit 2; a launch flag wins over the AMI', async () => {
      const work = temporaryDirectory();
      const config = join(work, 'imds-hop.ini');
      writeFileSync(config, `[ec2-api]\naccount-defaults-file = ${join(work, 'none.json')}\n`);
      const ami = await Appliance.start(namespace, [
        '--config',
        config,
        '--imds-support',
        'v2.0',
        '--ec2-api-listen',
        'off',
      ]);
      appliances.push(ami);
      assert.deepEqual((await options(ami)).InstanceMetadataOptions, {
        State: 'applied',
        HttpTokens: 'required',
        HttpPutResponseHopLimit: 2,
        HttpEndpoint: 'enabled',
        HttpProtocolIpv6: 'disabled',
        InstanceMetadataTags: 'disabled',
      });
      const serving = ami.records.find((r) => r.msg === 'serving') as
        { optionSources: Record<string, string> } | undefined;
      assert.equal(serving?.optionSources.httpTokens, 'ami');
      // The API's option name works on imds-hop options too; the answer is the pending document.
      const changed = await options(ami, ['--http-put-response-hop-limit', '3']);
      assert.equal(changed.InstanceMetadataOptions.State, 'pending');
      assert.equal((await options(ami)).InstanceMetadataOptions.HttpPutResponseHopLimit, 3);
      const off = await imdsHop(['ec2-api', 'credentials', '--interface', ami.interfaceName]);
      assert.notEqual(off.code, 0);
      assert.match(off.stderr, /EC2_API_OFF/);
      await ami.stop();

      const launched = await Appliance.start(namespace, [
        '--config',
        config,
        '--imds-support',
        'v2.0',
        '--http-tokens',
        'optional',
        '--ec2-api-listen',
        'off',
      ]);
      appliances.push(launched);
      const shown = (await options(launched)).InstanceMetadataOptions;
      assert.equal(shown.HttpTokens, 'optional');
      assert.equal(shown.HttpPutResponseHopLimit, 2);
    });
  },
);
