// The process logger: pino JSON lines on stdout, or pino-pretty's readable lines when a person is watching a
// terminal. Token-bearing fields are redacted wherever they appear, as a second line of defence: the code never
// puts a token or a secret key in a log record on purpose.
import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';

/** pino-pretty is loaded only when a person reads the log: JSON lines (a service, a test) never pay for it. */
const loadPretty = (): typeof PinoPretty => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;

const REDACTED_PATHS = [
  'token',
  '*.token',
  'Token',
  '*.Token',
  'headers["x-aws-ec2-metadata-token"]',
  '*.headers["x-aws-ec2-metadata-token"]',
  'secretAccessKey',
  '*.secretAccessKey',
  'SecretAccessKey',
  '*.SecretAccessKey',
];

type LogFormat = 'json' | 'pretty' | 'auto';

export function createLogger(
  level: LevelWithSilent = 'info',
  format: LogFormat = 'json',
  destination?: pino.DestinationStream,
): Logger {
  const readable = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  return pino(
    {
      name: 'imds-hop',
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    destination ??
      (readable
        ? loadPretty()({
            destination: 1,
            sync: true,
            colorize: process.stdout.isTTY === true,
            translateTime: 'SYS:HH:MM:ss.l',
          })
        : pino.destination({ dest: 1, sync: true })),
  );
}
