#!/usr/bin/python3
"""A TCP listener that accepts connections and keeps them open, logging
each peer ("ADDRESS PORT", one a line, flushed) to LOG. Forks into the
background once it listens; its pid goes to PIDFILE; it exits after
LIFETIME seconds.
Usage: hold-server.py ADDRESS PORT LOG PIDFILE LIFETIME"""
import os
import select
import socket
import sys
import time


def main() -> int:
    address, port, log, pidfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    lifetime = float(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(1024)
    if os.fork() != 0:
        return 0
    os.setsid()
    with open(pidfile, "w") as f:
        f.write(f"{os.getpid()}\n")
    held = []
    deadline = time.monotonic() + lifetime
    with open(log, "a", buffering=1) as out:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([s], [], [], 0.5)
            if not ready:
                continue
            conn, peer = s.accept()
            held.append(conn)
            out.write(f"{peer[0]} {peer[1]}\n")
    return 0


sys.exit(main())
