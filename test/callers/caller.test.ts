// Caller names, keys and command lines as reports show them: no session token or secret from a command line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callerKey, redactCommandLine, shortName } from '../../src/callers/caller.ts';

test('a session token or a secret on the command line never reaches a report', () => {
  const token = 'AQAEAFTNr' + 'x'.repeat(40) + '==';
  assert.equal(
    redactCommandLine(['curl', '-H', `X-aws-ec2-metadata-token: ${token}`, 'http://169.254.169.254/latest/meta-data/']),
    'curl -H X-aws-ec2-metadata-token: [redacted] http://169.254.169.254/latest/meta-data/',
  );
  assert.equal(
    redactCommandLine(['app', '--aws-secret-access-key', 'wJalr', '--token=abc', '--verbose']),
    'app --aws-secret-access-key [redacted] --token=[redacted] --verbose',
  );
  assert.equal(redactCommandLine(['python3', '/srv/x.py']), 'python3 /srv/x.py');
});

test('short names: the interpreter and its script; keys keep different programs apart', () => {
  assert.equal(shortName('python3', ['python3', '-u', '/srv/app/fetch.py']), 'python3 fetch.py');
  assert.equal(shortName('curl', ['curl', '-s', 'http://169.254.169.254/']), 'curl');
  const base = {
    kind: 'process',
    name: 'curl',
    uid: 0,
    cgroup: '/',
    netns: 'n',
    executable: '/usr/bin/curl',
    sourceAddress: 'a',
  } as const;
  assert.equal(
    callerKey({ ...base, pid: 1, commandLine: 'curl x' }),
    callerKey({ ...base, pid: 2, commandLine: 'curl x' }),
  );
  assert.notEqual(callerKey({ ...base, commandLine: 'curl x' }), callerKey({ ...base, commandLine: 'curl y' }));
});
