#!/usr/bin/python3
"""Stand in for systemd's side of sd_notify(3) and wait for READY=1.

Binds a unix datagram socket at --socket (pass its path to the service as
NOTIFY_SOCKET) and writes one line per event to stdout:

    LISTENING                 the socket is bound: start the service now
    MSG <epoch-ms> <text>     a notification (newlines shown as " | ")
    DRAINER <pid>             after READY: pid of the child that keeps
                              receiving (and logging to --drain-log) like
                              systemd would; kill it when done
    READY <epoch-ms> <epoch-us>  READY=1 received (one stamp, in ms and µs): exit 0
    EXITED <pid>              the process in --pid-file ended first: exit 3
    TIMEOUT                   --timeout seconds passed first: exit 1

Epoch milliseconds come from the realtime clock, the same one as bash's
$EPOCHREALTIME, so the caller can compute latencies.
"""

import argparse
import os
import select
import socket
import sys
import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def watched_pid_gone(pid_file: str) -> int | None:
    """The pid in pid_file if that process has ended (or is a zombie)."""
    try:
        with open(pid_file, encoding="ascii") as f:
            pid = int(f.read().strip())
    except (FileNotFoundError, ValueError):
        return None  # not started yet
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return pid
    return pid if state in ("Z", "X") else None


def drain(sock: socket.socket, log_path: str, seconds: float) -> None:
    """Keep the socket alive (as systemd does) and log what arrives."""
    deadline = time.monotonic() + seconds
    with open(log_path, "a", encoding="utf-8") as log:
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if ready:
                data = sock.recv(65536).decode("utf-8", "replace")
                log.write(f"{now_ms()} {data.strip().replace(chr(10), ' | ')}\n")
                log.flush()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--timeout", type=float, required=True, help="seconds")
    ap.add_argument("--pid-file", help="stop early when this pid has ended")
    ap.add_argument("--drain-log", help="after READY, keep receiving into this file")
    ap.add_argument("--drain-seconds", type=float, default=300.0)
    args = ap.parse_args()

    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(args.socket)
    os.chmod(args.socket, 0o666)
    say("LISTENING")

    deadline = time.monotonic() + args.timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], min(left, 0.1))
        if not ready:
            if args.pid_file and (pid := watched_pid_gone(args.pid_file)):
                say(f"EXITED {pid}")
                return 3
            continue
        data = sock.recv(65536).decode("utf-8", "replace")
        stamp_us = time.time_ns() // 1000
        stamp = stamp_us // 1000
        say(f"MSG {stamp} {data.strip().replace(chr(10), ' | ')}")
        if "READY=1" in data.split("\n"):
            if args.drain_log:
                child = os.fork()
                if child == 0:
                    os.setsid()
                    devnull = os.open(os.devnull, os.O_RDWR)
                    for fd in (0, 1, 2):
                        os.dup2(devnull, fd)
                    drain(sock, args.drain_log, args.drain_seconds)
                    os._exit(0)
                say(f"DRAINER {child}")
            say(f"READY {stamp} {stamp_us}")
            return 0
    say("TIMEOUT")
    return 1


if __name__ == "__main__":
    sys.exit(main())
