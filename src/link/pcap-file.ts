// The libpcap file format 2.4 (the classic .pcap tcpdump and tshark read): a 24-byte global header, then one
// 16-byte record header before each captured frame. Pure: builds the bytes, the caller writes them.

/** Magic of a microsecond-resolution pcap written in the host's byte order (we write little-endian). */
const PCAP_MAGIC = 0xa1b2c3d4;
const PCAP_VERSION_MAJOR = 2;
const PCAP_VERSION_MINOR = 4;
const PCAP_GLOBAL_HEADER_LENGTH = 24;
const PCAP_RECORD_HEADER_LENGTH = 16;
/** LINKTYPE_ETHERNET (tcpdump.org link-layer header types). */
const LINKTYPE_ETHERNET = 1;

export function pcapGlobalHeader(snapLength: number, linkType = LINKTYPE_ETHERNET): Buffer {
  const header = Buffer.alloc(PCAP_GLOBAL_HEADER_LENGTH);
  header.writeUInt32LE(PCAP_MAGIC, 0);
  header.writeUInt16LE(PCAP_VERSION_MAJOR, 4);
  header.writeUInt16LE(PCAP_VERSION_MINOR, 6);
  header.writeInt32LE(0, 8); // thiszone: timestamps are UTC
  header.writeUInt32LE(0, 12); // sigfigs
  header.writeUInt32LE(snapLength, 16);
  header.writeUInt32LE(linkType, 20);
  return header;
}

/** One record: its header followed by the captured bytes, in one buffer. */
export function pcapRecord(frame: Uint8Array, timestampMicros: bigint, originalLength = frame.length): Buffer {
  const record = Buffer.alloc(PCAP_RECORD_HEADER_LENGTH + frame.length);
  record.writeUInt32LE(Number(timestampMicros / 1_000_000n), 0);
  record.writeUInt32LE(Number(timestampMicros % 1_000_000n), 4);
  record.writeUInt32LE(frame.length, 8);
  record.writeUInt32LE(Math.max(originalLength, frame.length), 12);
  record.set(frame, PCAP_RECORD_HEADER_LENGTH);
  return record;
}
