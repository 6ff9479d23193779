#!/usr/bin/python3
"""Many concurrent TCP connections, held open, for the capacity benchmark.

  conn-hold.py serve ADDRESS PORTS PIDFILE LIFETIME
      Listens on ADDRESS at each of PORTS (comma-separated), accepts every
      connection and keeps it open until its client closes or resets it
      (then closes it: nothing lingers between rounds). Forks into the
      background once it listens (its pid goes to PIDFILE) and exits after
      LIFETIME seconds. Raises its own open-file limit.

  conn-hold.py open --dst ADDRESS --ports P,... --sources A,... --count N
                    --result FILE [--inflight K] [--timeout S] [--hold S]
      Opens N connections to ADDRESS, spread round-robin over every
      (source address, destination port) pair, at most K handshakes in
      flight at once (default: all N at once). Each socket is bound to its
      source address with IP_BIND_ADDRESS_NO_PORT (the ephemeral port is
      chosen per destination at connect()) and SO_LINGER 0 (closed with an
      RST: when this process ends, no TIME_WAIT, no half-closed peer). A
      connection not established within TIMEOUT seconds of its connect()
      (default 5; the kernel retransmits a lost SYN at 1, 3, 7 s) is a
      failure. Then writes one JSON object to FILE (atomically): attempted,
      held, failed, errors (connect() refused locally), seconds (the time
      to open them all), and keeps the connections open for HOLD seconds
      (default 600) or until killed.
"""
import argparse
import errno
import json
import os
import resource
import select
import socket
import struct
import sys
import time

LINGER_RST = struct.pack("ii", 1, 0)
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def raise_nofile(want: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(address: str, ports: str, pidfile: str, lifetime: float) -> int:
    raise_nofile(1 << 20)
    listeners = {}
    for p in ports.split(","):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, int(p)))
        s.listen(65535)
        s.setblocking(False)
        listeners[s.fileno()] = s
    if os.fork() != 0:
        return 0
    os.setsid()
    with open(pidfile, "w") as f:
        f.write(f"{os.getpid()}\n")
    ep = select.epoll()
    for fd in listeners:
        ep.register(fd, select.EPOLLIN)
    held = {}
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        for fd, _ in ep.poll(0.5, 4096):
            lsock = listeners.get(fd)
            if lsock is None:
                ep.unregister(fd)
                held.pop(fd).close()
                continue
            while True:
                try:
                    conn, _ = lsock.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:
                    if e.errno in (errno.ECONNABORTED, errno.EPROTO):
                        continue
                    if e.errno in (errno.EMFILE, errno.ENFILE):
                        break
                    raise
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
                held[conn.fileno()] = conn
                ep.register(conn.fileno(), select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR)
    return 0


def open_many(args: argparse.Namespace) -> int:
    raise_nofile(args.count + 1024)
    sources = [a for a in args.sources.split(",") if a]
    ports = [int(p) for p in args.ports.split(",") if p]
    pairs = [(s, p) for s in sources for p in ports]
    inflight_max = args.inflight or args.count
    ep = select.epoll()
    pending = {}  # fd -> (socket, started)
    held = []
    failed = errors = attempted = 0
    t0 = time.monotonic()
    while attempted < args.count or pending:
        while attempted < args.count and len(pending) < inflight_max:
            src, port = pairs[attempted % len(pairs)]
            attempted += 1
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            try:
                s.bind((src, 0))
                rc = s.connect_ex((args.dst, port))
            except OSError:
                rc = -1
            if rc not in (0, errno.EINPROGRESS):
                errors += 1
                s.close()
                continue
            pending[s.fileno()] = (s, time.monotonic())
            ep.register(s.fileno(), select.EPOLLOUT)
        for fd, _ in ep.poll(0.05, 4096):
            s, _ = pending.pop(fd)
            ep.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                held.append(s)
            else:
                failed += 1
                s.close()
        now = time.monotonic()
        # pending is in connect() order: the oldest first.
        for fd in list(pending):
            s, started = pending[fd]
            if now - started < args.timeout:
                break
            del pending[fd]
            ep.unregister(fd)
            failed += 1
            s.close()
    seconds = time.monotonic() - t0
    out = {"attempted": attempted, "held": len(held), "failed": failed, "errors": errors,
           "seconds": round(seconds, 3)}
    tmp = args.result + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
        f.write("\n")
    os.rename(tmp, args.result)
    time.sleep(args.hold)
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        if len(sys.argv) != 6:
            print(__doc__, file=sys.stderr)
            return 2
        return serve(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
    p = argparse.ArgumentParser(description="concurrent TCP connections, held open")
    p.add_argument("mode", choices=["open"])
    p.add_argument("--dst", required=True)
    p.add_argument("--ports", required=True, help="comma-separated destination ports")
    p.add_argument("--sources", required=True, help="comma-separated source addresses")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--result", required=True)
    p.add_argument("--inflight", type=int, default=0, help="handshakes in flight at once (0: all)")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--hold", type=float, default=600.0)
    return open_many(p.parse_args())


sys.exit(main())
