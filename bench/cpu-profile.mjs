// Loaded with NODE_OPTIONS=--import (which refuses --cpu-prof on Node 20): profiles the whole process with the
// inspector and writes a .cpuprofile into $IMDS_HOP_CPU_PROFILE_DIR when it exits.
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.IMDS_HOP_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // A session on the main thread answers synchronously, so this completes inside the exit handler.
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `imds-hop-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
