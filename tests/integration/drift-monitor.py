#!/usr/bin/python3
"""Timestamped netlink events of the network namespace it runs in, for
natd's self-healing tests (drift-lib.sh). Subscribes to nftables
transactions (NFNLGRP_NFTABLES), IPv4 routes, IPv4 netconf (ip_forward) and
links, and writes one line per event on stdout:

    LISTENING                          subscribed: events from now on are seen
    <us> nft <pid> <process> <op>...   one nftables transaction, at its NEWGEN;
                                       ops like NEWTABLE:ip:natd,
                                       DELRULE:ip:filter:FORWARD
    <us> route add|del <dst>/<len> dev <ifindex> proto <n> table <n>
    <us> forwarding 0|1                net.ipv4.conf.all.forwarding (ip_forward)
    <us> ifforwarding <ifindex> 0|1    net.ipv4.conf.<if>.forwarding
    <us> link new|del <ifindex> <name> up|down altnames=<a,b|->

<us> is the realtime clock in microseconds since the epoch (the clock of
bash's $EPOCHREALTIME), taken when the message was received. Both ends of a
measured interval come from this one process, so the figures do not include
the start-up of the commands that caused them.

Ends after --lifetime seconds (default 600) or when stdout closes.
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

NETLINK_ROUTE = 0
NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
RTNLGRP_LINK = 1
RTNLGRP_IPV4_ROUTE = 7
RTNLGRP_IPV4_NETCONF = 24
NFNLGRP_NFTABLES = 7

RTM_NEWLINK, RTM_DELLINK = 16, 17
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
RTM_NEWNETCONF = 80
NLMSG_ERROR, NLMSG_DONE = 2, 3
NFNL_SUBSYS_NFTABLES = 10

NFT_OPS = {
    0: "NEWTABLE", 2: "DELTABLE", 3: "NEWCHAIN", 5: "DELCHAIN", 6: "NEWRULE",
    8: "DELRULE", 9: "NEWSET", 11: "DELSET", 12: "NEWSETELEM", 14: "DELSETELEM",
    18: "NEWOBJ", 20: "DELOBJ", 22: "NEWFLOWTABLE", 24: "DELFLOWTABLE",
    26: "DESTROYTABLE", 27: "DESTROYCHAIN", 28: "DESTROYRULE",
}
NFT_MSG_NEWGEN = 15
FAMILIES = {1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"}


def now_us() -> int:
    return time.time_ns() // 1000


def attrs(buf: bytes, off: int) -> dict:
    """Netlink attributes from off to the end of buf: type -> payload
    (the first of each type; nested flag masked)."""
    out = {}
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            break
        out.setdefault(atype & 0x3FFF, buf[off + 4:off + alen])
        off += (alen + 3) & ~3
    return out


def all_attrs(buf: bytes, off: int, want: int) -> list:
    vals = []
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            break
        if atype & 0x3FFF == want:
            vals.append(buf[off + 4:off + alen])
        off += (alen + 3) & ~3
    return vals


def cstr(b: bytes) -> str:
    return b.split(b"\0", 1)[0].decode("utf-8", "replace")


def messages(data: bytes):
    off = 0
    while off + 16 <= len(data):
        mlen, mtype = struct.unpack_from("=IH", data, off)
        if mlen < 16:
            break
        yield mtype, data[off:off + mlen]
        off += (mlen + 3) & ~3


class Out:
    def __init__(self):
        self.pending = []  # nftables ops since the last NEWGEN

    @staticmethod
    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def route(self, t: int, mtype: int, msg: bytes) -> None:
        family, dst_len, _src, _tos, table, proto = struct.unpack_from("=BBBBBB", msg, 16)
        if family != socket.AF_INET:
            return
        a = attrs(msg, 16 + 12)
        dst = socket.inet_ntoa(a[1]) if 1 in a else "0.0.0.0"
        oif = struct.unpack("=i", a[4])[0] if 4 in a else 0
        if 15 in a:
            table = struct.unpack("=I", a[15])[0]
        verb = "add" if mtype == RTM_NEWROUTE else "del"
        self.say(f"{t} route {verb} {dst}/{dst_len} dev {oif} proto {proto} table {table}")

    def netconf(self, t: int, msg: bytes) -> None:
        a = attrs(msg, 16 + 4)
        if 1 not in a or 2 not in a:
            return
        ifindex = struct.unpack("=i", a[1])[0]
        value = struct.unpack("=i", a[2])[0]
        if ifindex == -1:  # NETCONFA_IFINDEX_ALL: net.ipv4.ip_forward
            self.say(f"{t} forwarding {value}")
        elif ifindex > 0:  # -2 is NETCONFA_IFINDEX_DEFAULT
            self.say(f"{t} ifforwarding {ifindex} {value}")

    def link(self, t: int, mtype: int, msg: bytes) -> None:
        ifindex, flags = struct.unpack_from("=iI", msg, 16 + 4)
        a = attrs(msg, 16 + 16)
        name = cstr(a[3]) if 3 in a else "?"
        alts = []
        if 52 in a:  # IFLA_PROP_LIST, nested IFLA_ALT_IFNAME (53)
            alts = [cstr(v) for v in all_attrs(a[52], 0, 53)]
        verb = "new" if mtype == RTM_NEWLINK else "del"
        up = "up" if flags & 1 else "down"  # IFF_UP: administratively up
        self.say(f"{t} link {verb} {ifindex} {name} {up} altnames={','.join(alts) or '-'}")

    def nft(self, t: int, mtype: int, msg: bytes) -> None:
        if mtype >> 8 != NFNL_SUBSYS_NFTABLES:
            return
        op = mtype & 0xFF
        family = FAMILIES.get(msg[16], str(msg[16]))
        a = attrs(msg, 16 + 4)
        if op == NFT_MSG_NEWGEN:
            pid = struct.unpack(">I", a[2])[0] if 2 in a else 0
            proc = cstr(a[3]).replace(" ", "_") if 3 in a else "?"
            ops = " ".join(self.pending) or "-"
            self.pending = []
            self.say(f"{t} nft {pid} {proc} {ops}")
            return
        name = NFT_OPS.get(op, f"OP{op}")
        table = cstr(a[1]) if 1 in a else "?"
        token = f"{name}:{family}:{table}"
        if name.endswith("CHAIN") and 3 in a:
            token += ":" + cstr(a[3])
        elif name.endswith("RULE") and 2 in a:
            token += ":" + cstr(a[2])
        self.pending.append(token)


def subscribe(proto: int, groups) -> socket.socket:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((0, 0))
    for g in groups:
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g)
    return s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lifetime", type=float, default=600.0)
    args = ap.parse_args()
    rt = subscribe(NETLINK_ROUTE, (RTNLGRP_LINK, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV4_NETCONF))
    nf = subscribe(NETLINK_NETFILTER, (NFNLGRP_NFTABLES,))
    out = Out()
    out.say("LISTENING")
    deadline = time.monotonic() + args.lifetime
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([rt, nf], [], [], left)
        for s in ready:
            try:
                data = s.recv(1 << 20)
            except OSError as e:  # ENOBUFS: events were lost
                out.say(f"{now_us()} OVERRUN {e}")
                continue
            t = now_us()
            for mtype, msg in messages(data):
                if s is nf:
                    out.nft(t, mtype, msg)
                elif mtype in (RTM_NEWROUTE, RTM_DELROUTE):
                    out.route(t, mtype, msg)
                elif mtype == RTM_NEWNETCONF:
                    out.netconf(t, msg)
                elif mtype in (RTM_NEWLINK, RTM_DELLINK):
                    out.link(t, mtype, msg)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        os._exit(0)
