import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/index.ts';
import type { ConfigErrorKind } from '../../src/config/index.ts';

const enoent = (path: string): Uint8Array => {
  throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
};

/** Every error names file, line and key, has a stable code, and reads `FILE:LINE: KEY: problem (expected)`. */
function rejects(text: string, line: number, key: string, code: ConfigErrorKind, problem: RegExp): void {
  assert.throws(
    () => parseConfig(text, 'lab.ini', enoent),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.deepEqual(
        { file: err.file, line: err.line, key: err.key, kind: err.kind },
        { file: 'lab.ini', line, key, kind: code },
      );
      const prefix = key === '' ? `lab.ini:${line}: ` : `lab.ini:${line}: ${key}: `;
      assert.ok(err.message.startsWith(prefix), err.message);
      assert.match(err.message.slice(prefix.length), problem);
      assert.match(err.message, / \(.+\)$/, 'ends with what is expected');
      return true;
    },
  );
}

test('missing config file: line 0, OS error in the message', () => {
  const path = join(tmpdir(), 'imds-hop-no-such-dir', 'x.ini');
  assert.throws(
    () => loadConfig(path),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual([err.file, err.line, err.key, err.kind], [path, 0, '', 'config-unreadable']);
      assert.match(err.message, new RegExp(`^${path}:0: cannot read config file: ENOENT: no such file or directory`));
      return true;
    },
  );
});

test('syntax errors', () => {
  rejects('http-tokens = required\n', 1, 'http-tokens', 'syntax', /^key outside any section/);
  rejects('[instance]\n\nhostname\n', 3, 'hostname', 'syntax', /^key without "="/);
  rejects('[instance]\n= x\n', 2, '', 'syntax', /^line has no key/);
  rejects('[instance] junk\n', 1, '[instance] junk', 'syntax', /^malformed section header/);
  rejects('  [instance]\n', 1, '[instance]', 'syntax', /^malformed section header/);
  rejects('[Instance Data]\n', 1, '[Instance Data]', 'syntax', /^malformed section name/);
});

test('ini quirks are refused: array keys and dotted sections', () => {
  rejects('[network]\nlocal-ipv4[] = 10.0.0.1\n', 2, 'local-ipv4[]', 'unsupported', /array keys/);
  rejects('[network.eth1]\n', 1, '[network.eth1]', 'unsupported', /dotted section/);
});

test('unknown sections and keys, with did-you-mean', () => {
  rejects(
    '[metadata-option]\n',
    1,
    '[metadata-option]',
    'unknown-section',
    /^unknown section; did you mean \[metadata-options\]\? \(one of \[instance\], /,
  );
  rejects('[frobnicate]\n', 1, '[frobnicate]', 'unknown-section', /^unknown section \(one of /);
  rejects('[tags "x"]\n', 1, '[tags "x"]', 'unknown-section', /takes no "label"/);
  rejects('[network "eth0"]\n', 1, '[network "eth0"]', 'unknown-section', /primary interface is \[network\]/);
  rejects(
    '[metadata-options]\nhttp-token = required\n',
    2,
    'http-token',
    'unknown-key',
    /did you mean "http-tokens"\?/,
  );
  rejects('[instance]\nHostName = x\n', 2, 'HostName', 'unknown-key', /did you mean "hostname"\?/);
  rejects(
    '[instance]\nflavour = x\n',
    2,
    'flavour',
    'unknown-key',
    /^unknown key in \[instance\] \(one of account-id, /,
  );
  rejects('[user-data]\nfiel = a\n', 2, 'fiel', 'unknown-key', /did you mean "file"/);
  rejects('[block-device-mapping]\nroot2 = sda\n', 2, 'root2', 'unknown-key', /not a block device mapping name/);
});

test('duplicate keys and sections name the first occurrence', () => {
  rejects('[instance]\nregion = us-east-1\nregion = us-east-1\n', 3, 'region', 'duplicate-key', /first at line 2/);
  rejects('[tags]\na = 1\n[iam]\n[tags]\n', 4, '[tags]', 'duplicate-section', /first at line 1/);
});

test('bad addresses, MACs and ids', () => {
  rejects(
    '[network]\nlocal-ipv4 = 10.0.0.256\n',
    2,
    'local-ipv4',
    'invalid-value',
    /"10.0.0.256" is not an IPv4 address/,
  );
  rejects('[network]\nlocal-ipv4 = 10.0.0.1,,10.0.0.2\n', 2, 'local-ipv4', 'invalid-value', /empty item/);
  rejects('[network]\nlocal-ipv4 =\n', 2, 'local-ipv4', 'invalid-value', /list is empty/);
  rejects('[appliance]\nhost-address = 010.0.0.1\n', 2, 'host-address', 'invalid-value', /not an IPv4 address/);
  rejects(
    '[network]\nmac = 0e:49:61:0f:c3\n',
    2,
    'mac',
    'invalid-value',
    /not a valid MAC address \(xx:xx:xx:xx:xx:xx\)$/,
  );
  rejects('[appliance]\nmac = 01:00:5e:00:00:01\n', 2, 'mac', 'invalid-value', /multicast/);
  rejects(
    '[network]\nsubnet-ipv4-cidr-block = 172.31.16.1/20\n',
    2,
    'subnet-ipv4-cidr-block',
    'invalid-value',
    /host bits set/,
  );
  rejects('[network]\nipv6s = 2600::zz\n', 2, 'ipv6s', 'invalid-value', /not an IPv6 address/);
  rejects('[instance]\ninstance-id = i-123\n', 2, 'instance-id', 'invalid-value', /8 or 17 lower-case hex digits/);
  rejects('[instance]\ninstance-id = i-0B22A22EEC53B9321\n', 2, 'instance-id', 'invalid-value', /not a valid i- id/);
  rejects('[instance]\nami-id = ami-xyz\n', 2, 'ami-id', 'invalid-value', /not a valid ami- id/);
  rejects('[instance]\naccount-id = 1234\n', 2, 'account-id', 'invalid-value', /12 digits/);
  rejects('[instance]\npending-time = 2026-02-30T00:00:00Z\n', 2, 'pending-time', 'invalid-value', /not a real date/);
  rejects(
    '[appliance]\nmetrics-listen = example.com:80\n',
    2,
    'metrics-listen',
    'invalid-value',
    /not a valid listen address/,
  );
});

test('region and availability zone must agree', () => {
  rejects('[instance]\nregion = eu-west-1\n', 2, 'region', 'inconsistent', /us-east-1a is not in region eu-west-1/);
  rejects(
    '[instance]\nregion = eu-west-1\navailability-zone = eu-west-2a\n',
    3,
    'availability-zone',
    'inconsistent',
    /eu-west-2a is not in region eu-west-1/,
  );
});

test('integers and ranges', () => {
  rejects(
    '[metadata-options]\nhttp-put-response-hop-limit = 0\n',
    2,
    'http-put-response-hop-limit',
    'out-of-range',
    /^0 is out of range \(an integer from 1 to 64\)$/,
  );
  rejects(
    '[metadata-options]\nhttp-put-response-hop-limit = 65\n',
    2,
    'http-put-response-hop-limit',
    'out-of-range',
    /\(an integer from 1 to 64\)/,
  );
  rejects(
    '[metadata-options]\nhttp-put-response-hop-limit = 0x10\n',
    2,
    'http-put-response-hop-limit',
    'invalid-value',
    /not a valid hop limit/,
  );
  rejects(
    '[iam]\ncredential-lifetime-seconds = 899\n',
    2,
    'credential-lifetime-seconds',
    'out-of-range',
    /900\.\.43200/,
  );
  rejects(
    '[iam]\ncredential-lifetime-seconds = 900\n',
    2,
    'credential-lifetime-seconds',
    'inconsistent',
    /refresh 900 s is not shorter than lifetime 900 s/,
  );
  rejects(
    '[iam]\ncredential-lifetime-seconds = 1000\ncredential-refresh-seconds = 1000\n',
    3,
    'credential-refresh-seconds',
    'inconsistent',
    /not shorter/,
  );
  rejects('[appliance]\ndefault-ttl = 256\n', 2, 'default-ttl', 'out-of-range', /an integer from 1 to 255/);
  // EC2 serves new credentials at least five minutes before the old expire.
  rejects('[iam]\ncredential-refresh-seconds = 299\n', 2, 'credential-refresh-seconds', 'out-of-range', /300\.\.43200/);
});

test('[appliance] connection takes close or keep-alive', () => {
  rejects(
    '[appliance]\nconnection = persistent\n',
    2,
    'connection',
    'invalid-value',
    /^"persistent" is not allowed \(one of close \| keep-alive\)$/,
  );
});

test('enums', () => {
  rejects(
    '[metadata-options]\nhttp-tokens = mandatory\n',
    2,
    'http-tokens',
    'invalid-value',
    /^"mandatory" is not a valid http-tokens \("optional" or "required"\)$/,
  );
  rejects('[metadata-options]\nhttp-endpoint = on\n', 2, 'http-endpoint', 'invalid-value', /"enabled" or "disabled"/);
  rejects('[instance]\narchitecture = aarch64\n', 2, 'architecture', 'invalid-value', /x86_64 \| arm64/);
  rejects(
    '[instance]\ninstance-life-cycle = reserved\n',
    2,
    'instance-life-cycle',
    'invalid-value',
    /on-demand \| spot/,
  );
  rejects('[iam]\nenabled = no\n', 2, 'enabled', 'invalid-value', /true \| false/);
});

test('iam disabled with role keys, secondary interface without required keys, duplicate MAC', () => {
  rejects('[iam]\nenabled = false\nrole-name = x\n', 3, 'role-name', 'inconsistent', /enabled = false/);
  rejects(
    '[network "eth1"]\nmac = 02:00:00:00:00:02\n',
    1,
    '[network "eth1"]',
    'missing-key',
    /missing interface-id, local-ipv4/,
  );
  rejects(
    '[network "eth1"]\nmac = 0e:49:61:0f:c3:11\ninterface-id = eni-0000000a\nlocal-ipv4 = 172.31.16.20\n',
    2,
    'mac',
    'inconsistent',
    /used by two interfaces/,
  );
});

test('tags as EC2 limits them in instance metadata', () => {
  rejects('[tags]\nteam/owner = x\n', 2, 'team/owner', 'invalid-value', /no "\/"/);
  rejects('[tags]\n_index = x\n', 2, '_index', 'invalid-value', /not a valid tag key/);
  rejects(
    `[tags]\n${'k'.repeat(129)} = x\n`,
    2,
    'k'.repeat(129),
    'out-of-range',
    /a key of 129 characters is out of range \(at most 128 characters\)/,
  );
  rejects(`[tags]\nk = ${'v'.repeat(257)}\n`, 2, 'k', 'out-of-range', /at most 256/);
  const many = Array.from({ length: 51 }, (_, i) => `t${i} = x`).join('\n');
  rejects(`[tags]\n${many}\n`, 52, 't50', 'out-of-range', /at most 50 tags/);
});

test('user data: unreadable file names the path and the OS error; file and text exclude each other; 16 KiB', () => {
  rejects(
    '[user-data]\nfile = boot.sh\n',
    2,
    'file',
    'user-data-unreadable',
    /^cannot read \/.*\/boot\.sh: ENOENT: no such file or directory/,
  );
  rejects('[user-data]\ntext = a\nfile = b\n', 3, 'file', 'inconsistent', /both text \(line 2\) and file given/);
  assert.throws(
    () => parseConfig('[user-data]\nfile = big\n', '/x/lab.ini', () => new Uint8Array(16 * 1024 + 1)),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.kind === 'out-of-range' &&
      err.message === '/x/lab.ini:2: file: user data is 16385 bytes (at most 16384 bytes, as on EC2)',
  );
});

test('line numbers count blank lines, comments and CRLF', () => {
  rejects(
    '; c\r\n\r\n[instance]\r\n\r\n# c\r\ninstance-type = huge\r\n',
    6,
    'instance-type',
    'invalid-value',
    /not an instance type/,
  );
});
