// `imds-hop capture`: every frame seen on an interface, written to a pcap file as it arrives (one write per
// frame, so the file is complete up to the last frame whenever the process stops), captured with libpcap through
// the `cap` package.
import { closeSync, openSync, writeSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { loadCap } from './cap-package.ts';
import { LinkError } from './frame-link.ts';
import { pcapGlobalHeader, pcapRecord } from './pcap-file.ts';

const SNAP_BYTES = 65_535;
const CAPTURE_BUFFER_BYTES = 4 << 20;

interface PacketCapture {
  readonly frames: number;
  /** Stops capturing and closes the file. */
  stop(): void;
}

/** Unix time in microseconds from a monotonic clock anchored once, so timestamps never step backwards. */
function microClock(): () => bigint {
  const anchorMicros = BigInt(Date.now()) * 1000n;
  const anchorNanos = process.hrtime.bigint();
  return () => anchorMicros + (process.hrtime.bigint() - anchorNanos) / 1000n;
}

export function startPacketCapture(interfaceName: string, file: string, filter = ''): PacketCapture {
  if (!existsSync(`/sys/class/net/${interfaceName}`)) {
    throw new LinkError('INTERFACE_MISSING', `interface "${interfaceName}" does not exist in this network namespace`);
  }
  const { Cap } = loadCap();
  const capture = new Cap();
  const buffer = Buffer.alloc(SNAP_BYTES);
  let linkType: string;
  try {
    linkType = capture.open(interfaceName, filter, CAPTURE_BUFFER_BYTES, buffer);
  } catch (error) {
    const message = (error as Error).message;
    if (/permission|not permitted|EPERM/i.test(message)) {
      throw new LinkError('NOT_PERMITTED', `cannot capture on "${interfaceName}": needs root (CAP_NET_RAW)`, {
        cause: error,
      });
    }
    throw new LinkError('PCAP_OPEN_FAILED', `cannot capture on "${interfaceName}": ${message}`, { cause: error });
  }
  if (linkType !== 'ETHERNET') {
    capture.close();
    throw new LinkError('UNSUPPORTED_LINK', `interface "${interfaceName}" is ${linkType}, not Ethernet`);
  }
  capture.setMinBytes?.(0);
  const fd = openSync(file, 'w');
  writeSync(fd, pcapGlobalHeader(SNAP_BYTES));
  const now = microClock();
  let frames = 0;
  let stopped = false;
  capture.on('packet', (bytes) => {
    if (stopped) return;
    writeSync(fd, pcapRecord(buffer.subarray(0, bytes), now()));
    frames += 1;
  });
  return {
    get frames() {
      return frames;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      capture.close();
      closeSync(fd);
    },
  };
}
