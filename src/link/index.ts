export { LinkError, type FrameLink, type FramesHandler } from './frame-link.ts';
export { openTapLink } from './tap-link.ts';
export { createMemoryLinkPair } from './memory-link.ts';
export { configureTapInterface, type InterfacePlan } from './interface-config.ts';
export { openPcapLink, captureFilter, type PcapLinkOptions } from './pcap-link.ts';
export { loadNativeBindings, type NativeBindings, type SocketOwner } from './native.ts';
