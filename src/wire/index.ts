// Public surface of the wire layer: pure codecs, no I/O, no state.
export * from './address.ts';
export * from './checksum.ts';
export * from './ethernet.ts';
export * from './arp.ts';
export * from './ipv4.ts';
export * from './icmp.ts';
export * from './ipv6.ts';
export * from './icmpv6.ts';
export * from './tcp.ts';
export * from './tcp-segment.ts';
