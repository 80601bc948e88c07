// The process logger: pino JSON lines on stdout. Token-bearing fields are redacted wherever they appear, as a
// second line of defence: the code never puts a token in a log record on purpose.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export const REDACTED_PATHS = [
  'token',
  '*.token',
  'headers["x-aws-ec2-metadata-token"]',
  '*.headers["x-aws-ec2-metadata-token"]',
  'secretAccessKey',
  '*.secretAccessKey',
];

export function createLogger(level: LevelWithSilent = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: 'imds-hop',
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
