// The parsed form of a TCP segment, shared by the wire codec and the TCP state machine.
// Flag combinations that have no meaning (SYN+FIN, SYN+RST) cannot be expressed: one `control` value,
// and the ACK flag is present exactly when `ack` is a number.

export type TcpControl = 'none' | 'syn' | 'fin' | 'rst';

export interface TcpTimestampOption {
  value: number;
  echo: number;
}

export interface TcpOptions {
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  timestamp?: TcpTimestampOption;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  /** uint32 sequence number of the first octet (or of the SYN/FIN). */
  seq: number;
  /** uint32 acknowledgment number; undefined when the ACK flag is clear. */
  ack: number | undefined;
  control: TcpControl;
  push: boolean;
  /** The 16-bit window field as sent, before any window scaling. */
  window: number;
  options: TcpOptions;
  payload: Uint8Array;
}
