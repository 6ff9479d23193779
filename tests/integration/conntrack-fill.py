#!/usr/bin/python3
"""Fills the conntrack table of the current network namespace: one UDP
datagram from one socket to each of COUNT (address, port) pairs among
the addresses given, so that conntrack creates COUNT entries (locally sent
traffic is tracked at output). Prints how many it sent.
Usage: conntrack-fill.py COUNT ADDRESS..."""
import socket
import sys


def main() -> int:
    count = int(sys.argv[1])
    addresses = sys.argv[2:]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    sent = 0
    for address in addresses:
        for port in range(1024, 65536):
            if sent == count:
                break
            try:
                s.sendto(b"x", (address, port))
            except BlockingIOError:
                pass  # the queue is full: the entry exists anyway
            sent += 1
    print(sent)
    return 0 if sent == count else 1


sys.exit(main())
