// The connect hook's 4-tuple key (native-bindings/src/connect-hook.cc): what its sock_ops program files a
// connection's caller under as the SYN leaves, built here from the SYN imds-hop received. 48 bytes: family,
// the client's port (host order), the service's port as sock_ops reads it (its wire bytes in the upper half of a
// little-endian word), zero, the client's address and the service's, 16 bytes each (IPv4 in the first 4).
// Little-endian hosts only (as the hook's self-test checks); elsewhere callers are named through sock_diag.
import type { SocketEndpoint } from './netlink-messages.ts';

export const TUPLE_KEY_BYTES = 48;
const AF_INET = 2;
const AF_INET6 = 10;

/** `client` is the connecting socket's local end, `service` its remote end. */
export function tupleKey(client: SocketEndpoint, service: SocketEndpoint, into = new Uint8Array(TUPLE_KEY_BYTES)) {
  into.fill(0);
  const view = new DataView(into.buffer, into.byteOffset, TUPLE_KEY_BYTES);
  view.setUint32(0, client.address.length === 4 ? AF_INET : AF_INET6, true);
  view.setUint32(4, client.port, true);
  into[10] = service.port >>> 8; // the port's wire bytes, at the upper half of the little-endian word
  into[11] = service.port & 0xff;
  into.set(client.address, 16);
  into.set(service.address, 32);
  return into;
}
