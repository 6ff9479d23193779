#!/usr/bin/python3
"""A tiny api.ipify.org: answers every HTTP request with the caller's IP.

Binds and listens in the foreground, then forks: when this command returns,
the server already accepts connections (no polling needed). The server's pid
goes to --pid-file; it exits by itself after --lifetime seconds.
"""

import argparse
import http.server
import os
import socketserver
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, with_body: bool) -> None:
        body = self.client_address[0].encode("ascii")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(True)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(False)


class Server(http.server.HTTPServer):
    allow_reuse_address = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind() resolves its own name (getfqdn), which
        # stalls in a namespace without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--pid-file", required=True)
    ap.add_argument("--log", default=os.devnull)
    ap.add_argument("--lifetime", type=float, default=300.0, help="seconds")
    args = ap.parse_args()

    server = Server((args.bind, args.port), Handler)  # bound and listening
    child = os.fork()
    if child:
        with open(args.pid_file, "w", encoding="ascii") as f:
            f.write(f"{child}\n")
        return 0

    os.setsid()
    log = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
