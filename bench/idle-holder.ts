// Opens N TCP connections to HOST:PORT and holds them idle (no request) until stdin closes or a signal.
// Prints "ready OPENED FAILED" once every attempt settled, and "closed K" when asked how many the server dropped.
// Needs RLIMIT_NOFILE above N: the bench runs it under `prlimit --nofile`.
import { connect, type Socket } from 'node:net';

const host = process.argv[2] ?? '169.254.169.254';
const port = Number(process.argv[3] ?? 80);
const count = Number(process.argv[4] ?? 1000);
/** Connections in flight at once: stays under the appliance's half-open bound (1024) and the listen backlogs. */
const BATCH = 256;

const sockets: Socket[] = [];
let opened = 0;
let failed = 0;
let closedByServer = 0;

function openOne(): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    let settled = false;
    socket.once('connect', () => {
      settled = true;
      opened += 1;
      sockets.push(socket);
      resolve();
    });
    socket.on('error', () => {
      if (!settled) {
        settled = true;
        failed += 1;
        resolve();
      }
    });
    socket.on('close', () => {
      if (settled && sockets.includes(socket)) closedByServer += 1;
    });
  });
}

async function main(): Promise<void> {
  for (let started = 0; started < count; started += BATCH) {
    const batch: Array<Promise<void>> = [];
    for (let i = started; i < Math.min(count, started + BATCH); i++) batch.push(openOne());
    await Promise.all(batch);
  }
  process.stdout.write(`ready ${opened} ${failed}\n`);
}

function finish(): void {
  process.stdout.write(`closed ${closedByServer}\n`);
  for (const socket of sockets) socket.destroy();
  process.exit(0);
}

process.stdin.on('data', (data) => {
  if (String(data).includes('status')) process.stdout.write(`closed ${closedByServer}\n`);
});
process.stdin.on('end', finish);
process.once('SIGTERM', finish);
process.once('SIGINT', finish);
void main();
