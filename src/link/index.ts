export { LinkError, type FrameLink, type FramesHandler } from './frame-link.ts';
export { openTapLink } from './tap-link.ts';
export { createMemoryLinkPair } from './memory-link.ts';
export { configureTapInterface } from './interface-config.ts';
export { openPcapLink } from './pcap-link.ts';
export { loadNativeBindings, type SocketOwner } from './native.ts';
