#!/usr/bin/python3
"""Send hand-made IPv4 packets with any source address (forward-policy.sh).

  send-packet.py udp SRC DST DPORT [COUNT]       a UDP datagram "natd-probe"
  send-packet.py tcp SRC DST DPORT FLAGS [COUNT] a bare TCP segment; FLAGS of
                                                 S (SYN) F (FIN) A (ACK) R P

Raw socket with IP_HDRINCL: the kernel routes by destination and sends the
header as written, so SRC need not be an address of the sender. Needs
CAP_NET_RAW (root in the test's namespace).
"""

import socket
import struct
import sys

TCP_FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def transport(proto: int, src: bytes, dst: bytes, dport: int, flags: str) -> bytes:
    sport = 40000 + dport % 1000
    if proto == socket.IPPROTO_UDP:
        payload = b"natd-probe"
        header = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
        segment = header + payload
        csum_at = 6
    else:
        bits = 0
        for f in flags:
            bits |= TCP_FLAGS[f]
        segment = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, bits, 65535, 0, 0)
        csum_at = 16
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(segment))
    csum = checksum(pseudo + segment) or 0xFFFF
    return segment[:csum_at] + struct.pack("!H", csum) + segment[csum_at + 2:]


def main(argv: list) -> int:
    if len(argv) < 5 or argv[1] not in ("udp", "tcp") or (argv[1] == "tcp" and len(argv) < 6):
        print(__doc__, file=sys.stderr)
        return 2
    kind, src_text, dst_text, dport = argv[1], argv[2], argv[3], int(argv[4])
    flags = argv[5] if kind == "tcp" else ""
    count_at = 6 if kind == "tcp" else 5
    count = int(argv[count_at]) if len(argv) > count_at else 3
    proto = socket.IPPROTO_UDP if kind == "udp" else socket.IPPROTO_TCP
    src, dst = socket.inet_aton(src_text), socket.inet_aton(dst_text)
    body = transport(proto, src, dst, dport, flags)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0x1234, 0, 64, proto, 0, src, dst)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as s:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        for _ in range(count):
            s.sendto(header + body, (dst_text, 0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
