#!/usr/bin/python3
"""Opens COUNT TCP connections to ADDRESS:PORT at once, waits up to
TIMEOUT seconds for them, prints how many were established, and closes
them all.
Usage: hold-clients.py ADDRESS PORT COUNT TIMEOUT"""
import errno
import select
import socket
import sys
import time


def main() -> int:
    address, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    pending = {}
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((address, port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            continue
        pending[s.fileno()] = s
    established = []
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        _, writable, _ = select.select([], list(pending.values()), [], deadline - time.monotonic())
        for s in writable:
            del pending[s.fileno()]
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                established.append(s)
            else:
                s.close()
    print(len(established))
    for s in established + list(pending.values()):
        s.close()
    return 0


sys.exit(main())
