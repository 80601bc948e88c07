#!/usr/bin/env python3
"""Writes raw Ethernet frames (hex, one per line on stdin) out of an interface with an AF_PACKET socket.
Used by the malformed-input test to hand the appliance frames no kernel would ever build."""
import socket
import sys

if len(sys.argv) != 2:
    sys.exit("usage: inject-frames.py INTERFACE < frames.hex")
sent = 0
with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
    sock.bind((sys.argv[1], 0))
    for line in sys.stdin:
        line = line.strip()
        if line:
            sock.send(bytes.fromhex(line))
            sent += 1
print(sent)
