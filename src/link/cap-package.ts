// The `cap` package (libpcap for Node), loaded in one place for both of its users: the pcap backend and
// `imds-hop capture`. It is an optional native build: a missing libpcap is an operator error with a hint.
import { createRequire } from 'node:module';
import { LinkError } from './frame-link.ts';

export interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  setMinBytes?(bytes: number): void;
  on(event: 'packet', listener: (bytes: number, truncated: boolean) => void): void;
  send(buffer: Buffer, length: number): void;
  close(): void;
}

/** Loads a native npm package, turning a failed load into a LinkError with `code` and what to do about it. */
export function loadNativePackage<T>(name: string, code: Uppercase<string>, hint: string): T {
  const require = createRequire(import.meta.url);
  try {
    return require(name) as T;
  } catch (error) {
    throw new LinkError(
      code,
      `cannot load the "${name}" package (${(error as Error).message.split('\n')[0]}): ${hint}`,
      { cause: error },
    );
  }
}

export function loadCap(): { Cap: new () => CapHandle } {
  return loadNativePackage(
    'cap',
    'LIBPCAP_MISSING',
    'install libpcap (apt-get install libpcap-dev) and rebuild it with "npm rebuild cap"',
  );
}
