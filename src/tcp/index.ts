// Public surface of the TCP layer: a deterministic, I/O-free server-side TCP driven by segments and a clock.
export { TcpStack } from './stack.ts';
export { DEFAULT_TCP_CONFIG } from './types.ts';
export type { BytesTag, CloseReason, ConnectionId, Endpoints, SendTag, TcpAction, TcpConfig } from './types.ts';
