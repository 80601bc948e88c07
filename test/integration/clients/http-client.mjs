#!/usr/bin/env node
// A kernel-TCP client for the integration tests, run inside a test namespace:
//   http-client.mjs <sequential|concurrent|keep-alive> <count> <url> [timeoutMs]
// Prints one JSON line: how many requests succeeded, the statuses and bodies' sizes, and sockets used.
import http from 'node:http';

const [mode, countText, url, timeoutText = '15000'] = process.argv.slice(2);
const count = Number(countText);
const timeoutMs = Number(timeoutText);
if (!['sequential', 'concurrent', 'keep-alive'].includes(mode) || !(count > 0) || !url) {
  console.error('usage: http-client.mjs <sequential|concurrent|keep-alive> <count> <url> [timeoutMs]');
  process.exit(2);
}

const agent =
  mode === 'keep-alive' ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : new http.Agent({ keepAlive: false });
const sockets = new Set();

function fetchOnce() {
  return new Promise((resolve) => {
    const request = http.get(url, { agent, timeout: timeoutMs }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, bytes: Buffer.concat(chunks).length }));
      response.on('error', (error) => resolve({ error: error.message }));
    });
    request.on('socket', (socket) => sockets.add(socket));
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error) => resolve({ error: error.message }));
  });
}

const results = [];
if (mode === 'concurrent') {
  results.push(...(await Promise.all(Array.from({ length: count }, fetchOnce))));
} else {
  for (let i = 0; i < count; i += 1) results.push(await fetchOnce());
}
agent.destroy();
const ok = results.filter((r) => r.status === 200).length;
const errors = results.filter((r) => r.error).map((r) => r.error);
console.log(
  JSON.stringify({ ok, total: count, sockets: sockets.size, statuses: results.map((r) => r.status ?? null), errors }),
);
