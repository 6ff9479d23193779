#!/usr/bin/python3
"""How soon a new connection egresses again, to a resolution of ~10 ms.

  egress-probe.py ADDRESS PORT EXPECT SINCE-MS TIMEOUT-S

Opens a new TCP connection to ADDRESS:PORT (the echo-ip HTTP server of the
integration tests) every 10 ms, each abandoned after 300 ms (before the
kernel's first SYN retransmission at 1 s, so that every attempt is one
fresh SYN), sends GET / and reads the answer: the address the server saw
the connection come from. It exits at the first answer that is EXPECT,
printing one JSON line: {"recovered_ms": the answer's time (realtime ms)
minus SINCE-MS, "started_ms": when that attempt began (minus SINCE-MS),
"attempts", "failed", "other" (answers from another address)}; after
TIMEOUT-S without one, "recovered_ms" is null and the exit code 1.
"""

import json
import selectors
import socket
import sys
import time

PERIOD = 0.01
ATTEMPT_TIMEOUT = 0.3


def main():
    address, port, expect = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    since_ms, timeout = int(sys.argv[4]), float(sys.argv[5])
    sel = selectors.DefaultSelector()
    result = {"recovered_ms": None, "started_ms": None, "attempts": 0, "failed": 0, "other": 0}
    start = time.monotonic()
    next_attempt = start
    # socket -> [started (realtime ms), deadline (monotonic), sent, received bytes]
    pending = {}

    def drop(s, failed=True):
        sel.unregister(s)
        s.close()
        del pending[s]
        if failed:
            result["failed"] += 1

    while time.monotonic() - start < timeout:
        now = time.monotonic()
        if now >= next_attempt:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((address, port))
            pending[s] = [time.time() * 1000, now + ATTEMPT_TIMEOUT, False, b""]
            sel.register(s, selectors.EVENT_WRITE)
            result["attempts"] += 1
            next_attempt = now + PERIOD
        for key, _ in sel.select(max(0.0, next_attempt - time.monotonic())):
            s = key.fileobj
            st = pending[s]
            if not st[2]:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    drop(s)
                    continue
                try:
                    s.send(b"GET / HTTP/1.0\r\nHost: probe\r\n\r\n")
                except OSError:
                    drop(s)
                    continue
                st[2] = True
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(4096)
            except OSError:
                drop(s)
                continue
            if data:
                st[3] += data
                continue
            body = st[3].split(b"\r\n\r\n", 1)[-1].decode(errors="replace").strip()
            if body == expect:
                result["recovered_ms"] = round(time.time() * 1000 - since_ms)
                result["started_ms"] = round(st[0] - since_ms)
                drop(s, failed=False)
                print(json.dumps(result), flush=True)
                return 0
            result["other"] += 1
            drop(s, failed=False)
        now = time.monotonic()
        for s in [s for s, st in pending.items() if st[1] < now]:
            drop(s)
    print(json.dumps(result), flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
