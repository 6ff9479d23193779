#!/usr/bin/python3
"""A fake EC2 instance metadata service that enforces IMDSv2.

  fake-imds.py --metadata FILE --control FILE --log FILE --ready FILE [--address A] [--port P]

FILE (--metadata, JSON): {"instance-id": "...", "mac": "PRIMARY",
  "enis": {"MAC": {"device-number": "0", "interface-id": "eni-...", ...}},
  "items": {"placement/region": "eu-west-1", ...}}
  Every ENI item is served at /latest/meta-data/network/interfaces/macs/MAC/ITEM;
  an item missing from the file is a 404, as the real service does for
  public-ipv4s on an ENI without a public address.

Like the real service: PUT /latest/api/token needs
X-aws-ec2-metadata-token-ttl-seconds (1-21600; 400 otherwise), refuses a
request with X-Forwarded-For (403), answers the token and echoes the TTL;
every GET needs a valid, unexpired token (401 otherwise).

The control file (JSON, re-read at every request; missing: defaults) makes
it misbehave: {"max_ttl": SECONDS (grant at most this), "slow_ms": MS (every
answer that late), "slow_paths": [PATH...] (only these, default all),
"fail": {"PATH": [STATUS, ...]} (the next requests for PATH answer these
statuses, one each, consumed), "device_number_zero": [MAC...] (report 0, as
right after a hot attach), "revoke_before": UNIX-TIME (tokens issued
before it are invalid), "token_status": STATUS (PUT answers it), "items":
{ITEM: TEXT} (served at /latest/meta-data/ITEM before the metadata file's),
"enis": {MAC: {ITEM: TEXT}} (an ENI's items, e.g. local-ipv4s after a
secondary address moved)}.

The log gets one line per request: "METHOD PATH STATUS token=N" (N: which
token it carried, 0 none) or, for a PUT, "PUT PATH STATUS ttl=T".
The server runs until killed (at most --lifetime seconds).
"""

import argparse
import json
import os
import secrets
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/latest/meta-data/"
MACS = PREFIX + "network/interfaces/macs/"


class State:
    def __init__(self, args):
        with open(args.metadata) as f:
            self.metadata = json.load(f)
        self.control_path = args.control
        self.log_path = args.log
        self.lock = threading.Lock()
        self.tokens = {}  # value -> (number, issued, expires)
        self.consumed = {}  # path -> how many failures of "fail" were served

    def control(self):
        try:
            with open(self.control_path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def log(self, line):
        with self.lock, open(self.log_path, "a") as f:
            f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-imds"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # the request log is ours
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def misbehave(self, control):
        """Delay and injected failures; returns a status to answer or None."""
        slow = control.get("slow_ms", 0)
        paths = control.get("slow_paths")
        if slow and (paths is None or self.path in paths):
            time.sleep(slow / 1000)
        state = self.server.state
        fails = control.get("fail", {}).get(self.path, [])
        with state.lock:
            n = state.consumed.get(self.path, 0)
            if n < len(fails):
                state.consumed[self.path] = n + 1
                return fails[n]
        return None

    def do_PUT(self):
        state = self.server.state
        control = state.control()
        length = int(self.headers.get("Content-Length", "0") or 0)
        if length:
            self.rfile.read(length)
        ttl_text = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        status = self.misbehave(control)
        ttl = 0
        if status is None:
            status = control.get("token_status", 200)
        if self.path != "/latest/api/token":
            status = 404
        elif self.headers.get("X-Forwarded-For"):
            status = 403
        elif ttl_text is None or not ttl_text.isdigit() or not 1 <= int(ttl_text) <= 21600:
            status = 400
        if status != 200:
            state.log(f"PUT {self.path} {status} ttl=-")
            return self.answer(status)
        ttl = min(int(ttl_text), control.get("max_ttl", 21600))
        value = secrets.token_urlsafe(24)
        with state.lock:
            number = len(state.tokens) + 1
            now = time.time()
            state.tokens[value] = (number, now, now + ttl)
        state.log(f"PUT {self.path} 200 ttl={ttl}")
        self.answer(200, value.encode(), [("X-aws-ec2-metadata-token-ttl-seconds", str(ttl))])

    def do_GET(self):
        state = self.server.state
        control = state.control()
        token = self.headers.get("X-aws-ec2-metadata-token")
        with state.lock:
            known = state.tokens.get(token)
        number = known[0] if known else 0
        status = self.misbehave(control)
        body = b""
        if status is None:
            revoked = known and known[1] < control.get("revoke_before", 0)
            if not known or known[2] <= time.time() or revoked:
                status = 401
            else:
                value = self.lookup(control)
                status, body = (404, b"") if value is None else (200, value.encode())
        state.log(f"GET {self.path} {status} token={number}")
        self.answer(status, body)

    def lookup(self, control):
        m = self.server.state.metadata
        if self.path == PREFIX + "instance-id":
            return m["instance-id"]
        if self.path == PREFIX + "mac":
            return m["mac"]
        if self.path == MACS:
            return "\n".join(mac + "/" for mac in m["enis"])
        # Any other item: "items" in the control file (changed mid-test:
        # a spot notice, rotated credentials), else in the metadata file.
        item = self.path[len(PREFIX):] if self.path.startswith(PREFIX) else None
        for items in (control.get("items", {}), m.get("items", {})):
            if item in items:
                return items[item]
        if self.path.startswith(MACS):
            mac, _, item = self.path[len(MACS):].partition("/")
            eni = m["enis"].get(mac)
            if eni is None:
                return None
            if item == "device-number" and mac in control.get("device_number_zero", []):
                return "0"
            overrides = control.get("enis", {}).get(mac, {})
            if item in overrides:
                return overrides[item]
            return eni.get(item)
        return None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog (5) drops the SYNs of a client's parallel
    # requests, which then wait a second for the retransmission.
    request_queue_size = 128

    def server_bind(self):
        # http.server's resolves the name of its address (reverse DNS).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--metadata", required=True)
    p.add_argument("--control", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--address", default="169.254.169.254")
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--lifetime", type=int, default=600)
    args = p.parse_args()
    server = Server((args.address, args.port), Handler)
    server.state = State(args)
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    with open(args.ready, "w") as f:
        f.write(f"{os.getpid()}\n")
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
