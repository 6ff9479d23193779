#!/usr/bin/python3
"""A TCP stream that shows whether a NAT failover kept it.

  stream-probe.py server ADDRESS PORT PIDFILE LIFETIME
  stream-probe.py client ADDRESS PORT SECONDS PROGRESS-FILE

The server (forks once it listens) pushes a numbered line every 20 ms on
each connection and reads what the client sends: the pushed lines reach the
client only through the NAT binding of the connection, so a stream that
keeps receiving proves the binding survived. The client sends a line every
20 ms, reads the pushed ones, and exits after SECONDS (or on SIGTERM) with
one JSON line: {"sent", "received", "max_gap_ms" (the longest time without
a pushed line), "reset" (RST or EOF seen), "error", "seconds"}.
PROGRESS-FILE gets "RECEIVED MONOTONIC-MS" after every line received, so a
test can wait until the stream runs.
"""

import json
import os
import select
import signal
import socket
import sys
import time

PERIOD = 0.02


def server(address, port, pidfile, lifetime):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(16)
    if os.fork() != 0:
        return 0
    os.setsid()
    with open(pidfile, "w") as f:
        f.write(f"{os.getpid()}\n")
    end = time.monotonic() + lifetime
    conns = {}
    n = 0
    while time.monotonic() < end:
        ready, _, _ = select.select([s, *conns], [], [], PERIOD)
        for r in ready:
            if r is s:
                c, _ = s.accept()
                c.setblocking(False)
                conns[c] = 0
                continue
            try:
                if not r.recv(65536):
                    raise OSError("closed")
            except OSError:
                del conns[r]
                r.close()
        n += 1
        for c in list(conns):
            try:
                c.send(f"{n}\n".encode())
            except BlockingIOError:
                pass  # the path is stalled: the client sees the gap
            except OSError:
                del conns[c]
                c.close()
    return 0


def client(address, port, seconds, progress):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    result = {"sent": 0, "received": 0, "max_gap_ms": 0.0, "reset": False, "error": None}
    start = time.monotonic()
    try:
        c = socket.create_connection((address, port), timeout=5)
    except OSError as e:
        result.update(reset=True, error=f"connect: {e}", seconds=0)
        print(json.dumps(result))
        return 1
    c.setblocking(False)
    last = time.monotonic()
    next_send = last
    buffered = b""
    while not stop and time.monotonic() - start < seconds:
        now = time.monotonic()
        if now >= next_send:
            try:
                c.send(b"x\n")
                result["sent"] += 1
            except BlockingIOError:
                pass
            except OSError as e:
                result.update(reset=True, error=f"send: {e}")
                break
            next_send = now + PERIOD
        ready, _, _ = select.select([c], [], [], PERIOD / 2)
        if ready:
            try:
                data = c.recv(65536)
            except OSError as e:
                result.update(reset=True, error=f"recv: {e}")
                break
            if not data:
                result.update(reset=True, error="EOF")
                break
            buffered += data
            lines = buffered.count(b"\n")
            buffered = buffered[buffered.rfind(b"\n") + 1:]
            if lines:
                now = time.monotonic()
                result["max_gap_ms"] = max(result["max_gap_ms"], (now - last) * 1000)
                last = now
                result["received"] += lines
                with open(progress + ".tmp", "w") as f:
                    f.write(f"{result['received']} {int(now * 1000)}\n")
                os.replace(progress + ".tmp", progress)
    # A stall that lasted to the end counts too.
    result["max_gap_ms"] = round(max(result["max_gap_ms"], (time.monotonic() - last) * 1000), 1)
    result["seconds"] = round(time.monotonic() - start, 2)
    print(json.dumps(result), flush=True)
    return 0


def main():
    mode = sys.argv[1]
    if mode == "server":
        return server(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
    return client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])


if __name__ == "__main__":
    sys.exit(main())
