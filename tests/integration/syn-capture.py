#!/usr/bin/python3
"""Captures TCP SYNs (without ACK) to PORT on IFACE, in the current network
namespace, and prints one line per SYN: "SOURCE-PORT MSS" (MSS 0: no MSS
option). Writes READY to --ready once the socket is bound, exits after
COUNT SYNs or TIMEOUT seconds (exit 1 on timeout).
Usage: syn-capture.py IFACE PORT COUNT TIMEOUT --ready FILE"""
import argparse
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800


def mss_of(options: bytes) -> int:
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(options):
            break
        length = options[i + 1]
        if kind == 2 and length == 4 and i + 4 <= len(options):
            return struct.unpack("!H", options[i + 2:i + 4])[0]
        if length < 2:
            break
        i += length
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("iface")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("timeout", type=float)
    p.add_argument("--ready", required=True)
    a = p.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    s.bind((a.iface, 0))
    with open(a.ready, "w") as f:
        f.write("READY\n")
    deadline = time.monotonic() + a.timeout
    seen = 0
    while seen < a.count:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            print(f"timeout after {seen} SYN(s)", file=sys.stderr)
            return 1
        frame = s.recv(65535)
        ip = frame[14:]
        if len(ip) < 20 or ip[9] != socket.IPPROTO_TCP:
            continue
        ihl = (ip[0] & 0x0F) * 4
        tcp = ip[ihl:]
        if len(tcp) < 20:
            continue
        sport, dport = struct.unpack("!HH", tcp[:4])
        flags = tcp[13]
        if dport != a.port or flags & 0x12 != 0x02:  # SYN without ACK
            continue
        offset = (tcp[12] >> 4) * 4
        print(f"{sport} {mss_of(tcp[20:offset])}", flush=True)
        seen += 1
    return 0


sys.exit(main())
