// Every failure an operator can act on shares one base, so the CLI needs no list of them: each is printed as
// `imds-hop: MESSAGE [CODE]` with exit status 1, and anything else keeps its stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OperatorError } from '../../src/errors/operator-error.ts';
import { ServeError } from '../../src/appliance/serve-settings.ts';
import { ControlRequestError, ControlServerError } from '../../src/appliance/control-server.ts';
import { MetricsListenError } from '../../src/appliance/metrics.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { ControlClientError } from '../../src/cli/control-client.ts';
import { CallersCommandError } from '../../src/cli/callers.ts';
import { AccountDefaultsError } from '../../src/ec2-api/account-defaults.ts';
import { Ec2ApiListenError } from '../../src/ec2-api/server.ts';
import { LabError } from '../../src/lab/topology.ts';
import { LinkError } from '../../src/link/frame-link.ts';
import { main } from '../../src/cli/main.ts';

const ONE_CODE_STYLE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

test('every operator-facing error is an OperatorError with a SCREAMING_SNAKE code and its own name', () => {
  const errors = [
    new LinkError('TAP_OPEN_FAILED', 'm', { cause: new Error('EPERM') }),
    new ServeError('BAD_ADDRESS', 'm'),
    new ConfigError('/x.ini', 3, 'hop-limit', 'out-of-range', 'is 65', '1..64'),
    new ControlClientError('NOT_RUNNING', 'm'),
    new ControlServerError('CONTROL_SOCKET_BUSY', 'm'),
    new ControlRequestError('NO_SUCH_EVENT', 'm'),
    new MetricsListenError('BAD_METRICS_LISTEN', 'm'),
    new LabError('LAB_UP', 'm'),
    new CallersCommandError('NOTHING_TO_ASSERT', 'm'),
    new Ec2ApiListenError('BAD_ADDRESS', 'm'),
    new AccountDefaultsError('m'),
  ];
  for (const error of errors) {
    assert.ok(error instanceof OperatorError, error.name);
    assert.match(error.code, ONE_CODE_STYLE, error.name);
    assert.equal(error.name, error.constructor.name);
  }
  assert.equal((errors[0] as LinkError).cause instanceof Error, true, 'the cause is kept');
});

test('a config error keeps FILE:LINE: KEY in its message and its kind as a code in the one style', () => {
  const error = new ConfigError('/x.ini', 3, 'hop-limit', 'out-of-range', 'is 65', '1..64');
  assert.equal(error.message, '/x.ini:3: hop-limit: is 65 (1..64)');
  assert.equal(error.kind, 'out-of-range');
  assert.equal(error.code, 'OUT_OF_RANGE');
  assert.equal(new ConfigError('/x.ini', 0, '', 'config-unreadable', 'gone').code, 'CONFIG_UNREADABLE');
});

test('the CLI prints an operator error as one line with its code and exits 1, whatever its class', async () => {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
  try {
    // No appliance listens on this socket: the control client fails with NOT_RUNNING.
    const status = await main([
      'node',
      'imds-hop',
      'metrics',
      '--control-socket',
      `/nonexistent/imds-hop-${process.pid}.sock`,
    ]);
    assert.equal(status, 1);
  } finally {
    process.stderr.write = write;
  }
  assert.equal(written.length, 1);
  assert.match(
    written[0] as string,
    /^imds-hop: no imds-hop is running with control socket \/nonexistent\/.* \[NOT_RUNNING\]\n$/,
  );
});
