// Loads the N-API addon from native-bindings/ with an error that says how to build it.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LinkError } from './frame-link.ts';

export interface NativeBindings {
  openTap(name: string): { fd: number; name: string };
  /**
   * Watches `fd` and hands each batch of frames to `onFrames`. An exception escaping `onFrames` is taken off the
   * N-API environment (never left pending), counted in callbackExceptions and passed to `onError`.
   */
  FrameWatcher: new (fd: number, onFrames: (frames: Buffer[]) => void, onError?: (error: unknown) => void) => FrameWatcherHandle;
}

export interface FrameWatcherHandle {
  stop(): void;
  readonly callbackExceptions: number;
}

const addonPath = fileURLToPath(
  new URL('../../native-bindings/build/Release/imds_hop_native.node', import.meta.url),
);

let cached: NativeBindings | undefined;

export function loadNativeBindings(): NativeBindings {
  if (cached) return cached;
  if (!existsSync(addonPath)) {
    throw new LinkError(
      'NATIVE_ADDON_MISSING',
      `native addon not built (${addonPath} is missing): run "npm run build:native"`,
    );
  }
  const require = createRequire(import.meta.url);
  cached = require(addonPath) as NativeBindings;
  return cached;
}
