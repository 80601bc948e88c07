// Baseline: the same IMDS engine as the appliance, served by Node's `http` module on the kernel's TCP stack.
// Run inside the bench's server namespace, where 169.254.169.254 is a local address on the veth.
// Prints "listening" once bound; exits on SIGTERM/SIGINT.
import { createServer } from 'node:http';
import { defaultInstance } from '../src/imds/index.ts';
import { bootEngine } from '../src/appliance/boot-engine.ts';

const host = process.argv[2] ?? '169.254.169.254';
const port = Number(process.argv[3] ?? 80);
const engine = bootEngine(defaultInstance(), { increment: () => undefined });

const server = createServer((req, res) => {
  const headers: Array<[string, string]> = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([(raw[i] as string).toLowerCase(), raw[i + 1] as string]);
  const response = engine.handle({ method: req.method ?? 'GET', target: req.url ?? '/', headers }, Date.now());
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  const out: Record<string, string> = { Server: 'EC2ws', 'Content-Length': String(body.length) };
  for (const [name, value] of response.headers) out[name] = value;
  // The engine asks token bytes to leave with TTL = hop limit; Node's sockets cannot set a per-response TTL,
  // which only makes this baseline cheaper than the appliance.
  res.writeHead(response.status, out);
  res.end(req.method === 'HEAD' ? undefined : body);
});
// Idle connections must survive the whole idle-connections workload, as on the appliance (120 s idle timeout).
server.keepAliveTimeout = 120_000;
server.headersTimeout = 120_000;
server.requestTimeout = 300_000;
server.maxHeadersCount = 100;
server.listen({ host, port, backlog: 4096 }, () => process.stdout.write('listening\n'));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
