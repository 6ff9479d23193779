#!/usr/bin/python3
"""Every file and directory created or moved into DIR (recursively), one
line each on stdout: "<us> created <path>". Prints "WATCHING" once the
watch is in place. For checks like "natd never wrote into X, not even for a
moment", which polling cannot make. Ends when stdout closes, when the
process --parent names is gone, or after --lifetime seconds."""

import argparse
import ctypes
import os
import select
import struct
import sys
import time

IN_CREATE = 0x100
IN_MOVED_TO = 0x80
IN_ISDIR = 0x40000000
IN_NONBLOCK = 0o4000

libc = ctypes.CDLL("libc.so.6", use_errno=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--lifetime", type=float, default=600)
    ap.add_argument("--parent", type=int, default=0)
    args = ap.parse_args()
    fd = libc.inotify_init1(IN_NONBLOCK)
    if fd < 0:
        sys.exit(f"inotify_init1: {os.strerror(ctypes.get_errno())}")
    paths = {}

    def watch(path: str) -> None:
        wd = libc.inotify_add_watch(fd, path.encode(), IN_CREATE | IN_MOVED_TO)
        if wd >= 0:
            paths[wd] = path

    for root, dirs, _ in os.walk(args.dir):
        watch(root)
    print("WATCHING", flush=True)
    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline:
        if args.parent and not os.path.exists(f"/proc/{args.parent}"):
            return
        if not select.select([fd], [], [], 0.2)[0]:
            continue
        buf = os.read(fd, 65536)
        t = time.time_ns() // 1000
        off = 0
        while off < len(buf):
            wd, mask, _, length = struct.unpack_from("iIII", buf, off)
            name = buf[off + 16:off + 16 + length].rstrip(b"\0").decode()
            off += 16 + length
            path = os.path.join(paths.get(wd, "?"), name)
            try:
                print(f"{t} created {path}", flush=True)
            except BrokenPipeError:
                return
            if mask & IN_ISDIR:
                watch(path)


if __name__ == "__main__":
    main()
