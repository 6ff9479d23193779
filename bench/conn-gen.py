#!/usr/bin/python3
"""Short TCP connections for the port-allocation benchmark.

  conn-gen.py serve ADDRESS PORT PIDFILE LIFETIME
      Accepts connections and closes each when its client resets it (the
      client closes first: no TIME_WAIT on either side); forks into the
      background once it listens (its pid goes to PIDFILE) and exits after
      LIFETIME seconds. SO_REUSEPORT: several servers may share the port.

  conn-gen.py run --dst ADDRESS --port PORT --sources A,B,... [options]
      For DURATION seconds keeps CONCURRENCY connections in flight from
      each source address to ADDRESS:PORT: each is connected (non-blocking),
      and closed with an RST as soon as the handshake completes (SO_LINGER
      0: no TIME_WAIT, so a fixed source port is free again at once). A
      connection not established within TIMEOUT seconds is a failure. The
      kernel retransmits a lost SYN after 1 s: a connection that took
      longer than 0.9 s lost its first SYN on the way ("slow").
      --fixed-port P binds every socket to port P of its source address
      (then one connection per source is in flight at a time).
      Prints one JSON object: attempted, succeeded, failed (timeouts,
      refused; errors: any other error, or connect() refused locally),
      slow, seconds (until the last one ended), cps (connections
      established within DURATION, per second), p50_ms, p99_ms.
"""
import argparse
import errno
import json
import os
import select
import socket
import struct
import sys
import time

LINGER_RST = struct.pack("ii", 1, 0)
SLOW_S = 0.9


def serve(address: str, port: int, pidfile: str, lifetime: float) -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((address, port))
    s.listen(4096)
    if os.fork() != 0:
        return 0
    os.setsid()
    with open(pidfile, "w") as f:
        f.write(f"{os.getpid()}\n")
    s.setblocking(False)
    ep = select.epoll()
    ep.register(s.fileno(), select.EPOLLIN)
    held = {}  # accepted, until the client's RST (or anything else) arrives
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        for fd, _ in ep.poll(0.5):
            if fd != s.fileno():
                ep.unregister(fd)
                held.pop(fd).close()
                continue
            while True:
                try:
                    conn, _ = s.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:  # ECONNABORTED: reset while queued
                    if e.errno in (errno.ECONNABORTED, errno.EPROTO):
                        continue
                    raise
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
                held[conn.fileno()] = conn
                ep.register(conn.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
    return 0


def run(args: argparse.Namespace) -> int:
    sources = [a for a in args.sources.split(",") if a]
    per_source = 1 if args.fixed_port else args.concurrency
    ep = select.epoll()
    inflight = {}  # fd -> (socket, source, started)
    stats = {"attempted": 0, "succeeded": 0, "failed": 0, "timeouts": 0, "refused": 0, "slow": 0, "errors": 0}
    in_window = 0  # succeeded within DURATION
    latencies = []

    t0 = time.monotonic()
    stop_at = t0 + args.duration

    def start(source: str) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
        if args.fixed_port:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((source, args.fixed_port))
        except OSError:
            stats["errors"] += 1
            s.close()
            return
        stats["attempted"] += 1
        rc = s.connect_ex((args.dst, args.port))
        if rc not in (0, errno.EINPROGRESS):
            stats["attempted"] -= 1
            stats["errors"] += 1
            s.close()
            return
        inflight[s.fileno()] = (s, source, time.monotonic())
        ep.register(s.fileno(), select.EPOLLOUT)

    def finish(fd: int, ok: bool, err: int = 0) -> str:
        s, source, started = inflight.pop(fd)
        ep.unregister(fd)
        nonlocal in_window
        if ok:
            took = time.monotonic() - started
            if started + took < stop_at:
                in_window += 1
            stats["succeeded"] += 1
            latencies.append(took)
            if took > SLOW_S:
                stats["slow"] += 1
        else:
            stats["failed"] += 1
            stats["timeouts" if err == 0 else "refused" if err == errno.ECONNREFUSED else "errors"] += 1
        s.close()
        return source

    for source in sources:
        for _ in range(per_source):
            start(source)
    while inflight:
        now = time.monotonic()
        generating = now < stop_at
        for fd, ev in ep.poll(0.05):
            err = inflight[fd][0].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0 and ev & (select.EPOLLERR | select.EPOLLHUP):
                err = errno.ECONNRESET
            source = finish(fd, err == 0, err)
            if generating:
                start(source)
        now = time.monotonic()
        for fd in [fd for fd, (_, _, started) in inflight.items() if now - started > args.timeout]:
            source = finish(fd, False)
            if now < stop_at:
                start(source)
        if not inflight and time.monotonic() < stop_at:  # every start failed locally
            time.sleep(0.01)
            for source in sources:
                start(source)
    seconds = time.monotonic() - t0
    latencies.sort()

    def rank(q: float) -> float:
        if not latencies:
            return 0.0
        return latencies[max(0, int(q * len(latencies) + 0.999999) - 1)] * 1000

    stats.update(seconds=round(seconds, 3), cps=round(in_window / args.duration, 1), p50_ms=round(rank(0.5), 3), p99_ms=round(rank(0.99), 3))
    print(json.dumps(stats))
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        if len(sys.argv) != 6:
            print(__doc__, file=sys.stderr)
            return 2
        return serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
    p = argparse.ArgumentParser(description="short TCP connections (see the module docstring)")
    p.add_argument("mode", choices=["run"])
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--sources", required=True, help="comma-separated source addresses")
    p.add_argument("--concurrency", type=int, default=8, help="connections in flight per source")
    p.add_argument("--fixed-port", type=int, default=0, help="bind every socket to this source port")
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--timeout", type=float, default=2.5)
    return run(p.parse_args())


sys.exit(main())
