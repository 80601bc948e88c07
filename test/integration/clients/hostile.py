#!/usr/bin/env python3
"""Attacks on the appliance for the hostile-traffic tests, each bounded in count and time.

  syn-flood IFACE DST_MAC COUNT SECONDS    spoofed SYNs (sources in 198.18.0.0/15) written into the tap
  icmp-flood IFACE DST_MAC COUNT           ICMP time-exceeded quoting packets "from" 169.254.169.254 never sent
  slow-header HOST INTERVAL                 one request byte every INTERVAL seconds; prints what comes back
  stalled-readers HOST COUNT REQUESTS       COUNT connections pipelining REQUESTS GETs each, never reading
Frames are built here (checksums included) so the sender is not the bottleneck."""
import os
import random
import socket
import struct
import sys
import time

SRC_MAC = bytes.fromhex("020000000099")
SERVICE = socket.inet_aton("169.254.169.254")
INSTANCE = socket.inet_aton("169.254.169.253")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def ipv4(src, dst, proto, payload, ident):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0, 64, proto, 0, src, dst)
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def ethernet(dst_mac, payload):
    return dst_mac + SRC_MAC + b"\x08\x00" + payload


def syn_frame(dst_mac, src, sport, seq):
    options = b"\x02\x04\x05\xb4"  # MSS 1460
    tcp = struct.pack("!HHIIBBHHH", sport, 80, seq, 0, (6 << 4), 0x02, 64240, 0, 0) + options
    pseudo = src + SERVICE + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    return ethernet(dst_mac, ipv4(src, SERVICE, 6, tcp, seq))


def icmp_frame(dst_mac, n):
    quoted_tcp = struct.pack("!HHI", 80, random.randint(1024, 65535), random.getrandbits(32))
    quoted = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 60, n & 0xFFFF, 0, 1, 6, 0, SERVICE, INSTANCE) + quoted_tcp
    icmp = struct.pack("!BBHI", 11, 0, 0, 0) + quoted
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    router = socket.inet_aton("169.254.0.%d" % (1 + n % 250))
    return ethernet(dst_mac, ipv4(router, SERVICE, 1, icmp, n))


def flood(iface, frames, seconds):
    """Sends the frames spread over `seconds` in batches; returns how many went out."""
    sent = 0
    start = time.monotonic()
    batch = max(1, len(frames) // max(1, int(seconds * 50)))
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((iface, 0))
        for at in range(0, len(frames), batch):
            for frame in frames[at:at + batch]:
                try:
                    sock.send(frame)
                    sent += 1
                except BlockingIOError:
                    pass
                except OSError:  # ENOBUFS under a burst: a lost frame, as on a wire
                    pass
            ahead = start + seconds * (at + batch) / len(frames) - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    return sent


def main():
    command = sys.argv[1]
    if command == "syn-flood":
        iface, dst_mac, count, seconds = sys.argv[2], bytes.fromhex(sys.argv[3].replace(":", "")), int(sys.argv[4]), float(sys.argv[5])
        rng = random.Random(13)
        frames = [syn_frame(dst_mac, struct.pack("!BBBB", 198, 18 + rng.getrandbits(1), rng.getrandbits(8), rng.randint(1, 254)),
                            rng.randint(1024, 65535), rng.getrandbits(32)) for _ in range(count)]
        start = time.monotonic()
        sent = flood(iface, frames, seconds)
        print("%d %.3f" % (sent, time.monotonic() - start), flush=True)
    elif command == "icmp-flood":
        iface, dst_mac, count = sys.argv[2], bytes.fromhex(sys.argv[3].replace(":", "")), int(sys.argv[4])
        frames = [icmp_frame(dst_mac, n) for n in range(count)]
        print(flood(iface, frames, 2.0), flush=True)
    elif command == "slow-header":
        host, interval = sys.argv[2], float(sys.argv[3])
        request = b"GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: x\r\n\r\n"
        with socket.create_connection((host, 80), timeout=30) as sock:
            start = time.monotonic()
            sock.setblocking(False)
            answer = b""
            for byte in request:
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    break
                time.sleep(interval)
                try:
                    chunk = sock.recv(4096)
                    answer += chunk
                    if chunk == b"":
                        break
                except BlockingIOError:
                    pass
                except OSError:
                    break
            sock.setblocking(True)
            sock.settimeout(10)
            try:
                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
            except OSError:
                pass
            print("%.3f %s" % (time.monotonic() - start, answer.split(b"\r\n", 1)[0].decode("latin1")), flush=True)
    elif command == "stalled-readers":
        host, count, requests = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        request = b"GET /latest/user-data HTTP/1.1\r\nHost: x\r\n\r\n" * requests
        sockets = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(10)
            sock.connect((host, 80))
            sock.setblocking(False)
            try:
                sock.send(request)
            except OSError:
                pass
            sockets.append(sock)
        print("ready", flush=True)
        sys.stdin.read()  # hold every connection, reading nothing, until the test closes stdin
        for sock in sockets:
            sock.close()
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
