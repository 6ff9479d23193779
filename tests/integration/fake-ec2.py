#!/usr/bin/python3
"""A fake EC2 API endpoint that checks Signature Version 4 as AWS does.

  fake-ec2.py --state FILE --credentials FILE --region R --control FILE
              --log FILE --ready FILE [--address A] [--port P] [--hook CMD]

--credentials (JSON): {"ACCESS-KEY-ID": {"secret": "...", "token": "..."}}:
  the keys the fake IMDS hands out. A request must carry an Authorization
  header of the form "AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/REGION/ec2/
  aws4_request, SignedHeaders=..., Signature=HEX" whose signature, computed
  again here from the request as received (canonical request, string to
  sign, derived key), matches; SignedHeaders must include host, x-amz-date
  and x-amz-security-token; X-Amz-Date within 5 minutes of now and on the
  credential's day; X-Amz-Security-Token the key's token. Otherwise: 401
  AuthFailure or 403 SignatureDoesNotMatch, as EC2 answers.

--state (JSON, read at start, rewritten after every change):
  {"route_tables": {"rtb-...": {"0.0.0.0/0": "eni-..."}},
   "enis": {"eni-...": ["10.0.0.10", ...]}}
  AssignPrivateIpAddresses (AllowReassignment=true moves an address another
  ENI holds; without it that is InvalidParameterValue), Unassign...,
  ReplaceRoute (the route must exist) and DescribeRouteTables act on it.
  --hook CMD runs after each change with the action and its parameters as
  arguments (e.g. "ReplaceRoute rtb-1 0.0.0.0/0 eni-2"): the lab moves its
  routes and addresses to match.

--control (JSON, re-read at every request): {"fail": {"ACTION": [STATUS or
  CODE, ...]}} answers the next requests for ACTION with these (consumed;
  500/503 as InternalError/Unavailable, a code such as
  "RequestLimitExceeded" with HTTP 503), "slow_ms": MS, "expired_keys":
  [AKID...] (ExpiredToken for requests signed with these).

--log gets one line per request: "ACTION STATUS CODE" (CODE "-" on success).
"""

import argparse
import datetime
import hashlib
import hmac
import json
import os
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
MESSAGES = {
    500: ("InternalError", "An internal error has occurred."),
    503: ("Unavailable", "The service is unavailable."),
    "RequestLimitExceeded": (503, "Request limit exceeded."),
}


class State:
    def __init__(self, args):
        self.args = args
        with open(args.state) as f:
            self.data = json.load(f)
        with open(args.credentials) as f:
            self.credentials = json.load(f)
        self.lock = threading.Lock()
        self.consumed = {}

    def control(self):
        try:
            with open(self.args.control) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def save(self):
        tmp = self.args.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.args.state)

    def log(self, line):
        with open(self.args.log, "a") as f:
            f.write(line + "\n")


def sign(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-ec2"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, xml):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, action, status, code, message):
        self.server.state.log(f"{action} {status} {code}")
        self.reply(status, f"<Response><Errors><Error><Code>{code}</Code><Message>{message}"
                           f"</Message></Error></Errors><RequestID>fake-{time.time_ns()}"
                           f"</RequestID></Response>")

    def authenticate(self, body, control):
        """None when the signature holds, else (status, code, message)."""
        state = self.server.state
        auth = self.headers.get("Authorization", "")
        algorithm, _, rest = auth.partition(" ")
        if algorithm != "AWS4-HMAC-SHA256":
            return 401, "AuthFailure", "no AWS4-HMAC-SHA256 Authorization header"
        fields = dict(p.strip().partition("=")[::2] for p in rest.split(","))
        scope = fields.get("Credential", "").split("/")
        if len(scope) != 5 or scope[3:] != ["ec2", "aws4_request"]:
            return 401, "AuthFailure", f"bad credential scope {fields.get('Credential')}"
        akid, day, region = scope[0], scope[1], scope[2]
        if region != state.args.region:
            return 401, "AuthFailure", f"signed for region {region}, not {state.args.region}"
        key = state.credentials.get(akid)
        if key is None:
            return 401, "AuthFailure", f"unknown access key {akid}"
        if akid in control.get("expired_keys", []):
            return 400, "ExpiredToken", "The security token included in the request is expired"
        signed = fields.get("SignedHeaders", "").split(";")
        for needed in ("host", "x-amz-date", "x-amz-security-token"):
            if needed not in signed:
                return 401, "AuthFailure", f"{needed} is not signed (SignedHeaders={signed})"
        if self.headers.get("X-Amz-Security-Token") != key["token"]:
            return 401, "AuthFailure", "wrong or missing X-Amz-Security-Token"
        stamp = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return 401, "AuthFailure", f"bad X-Amz-Date {stamp!r}"
        if abs(time.time() - when.timestamp()) > 300 or stamp[:8] != day:
            return 401, "RequestExpired", f"X-Amz-Date {stamp} is not now"
        url = urllib.parse.urlsplit(self.path)
        query = "&".join(sorted(
            f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
            for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True)))
        headers = "".join(
            f"{h}:{' '.join((self.headers.get(h) or '').split())}\n" for h in signed)
        canonical = "\n".join([self.command, url.path or "/", query, headers, ";".join(signed),
                               hashlib.sha256(body).hexdigest()])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, f"{day}/{region}/ec2/aws4_request",
                             hashlib.sha256(canonical.encode()).hexdigest()])
        k = sign(("AWS4" + key["secret"]).encode(), day)
        for part in (region, "ec2", "aws4_request"):
            k = sign(k, part)
        expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            return 403, "SignatureDoesNotMatch", "the request signature does not match"
        return None

    def injected(self, action, control):
        fails = control.get("fail", {}).get(action, [])
        state = self.server.state
        # A new list for the action starts again from its first entry.
        key = action + json.dumps(fails)
        with state.lock:
            n = state.consumed.get(key, 0)
            if n >= len(fails):
                return None
            state.consumed[key] = n + 1
        f = fails[n]
        if isinstance(f, int):
            code, message = MESSAGES.get(f, ("InternalError", "injected"))
            return f, code, message
        status, message = MESSAGES.get(f, (400, "injected"))
        return status, f, message

    def do_POST(self):
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        action = params.get("Action", "-")
        control = state.control()
        if control.get("slow_ms"):
            time.sleep(control["slow_ms"] / 1000)
        problem = self.authenticate(body, control)
        if problem is None and params.get("Version") != "2016-11-15":
            problem = 400, "InvalidParameterValue", f"Version {params.get('Version')}"
        if problem is None:
            problem = self.injected(action, control)
        if problem is not None:
            return self.error(action, *problem)
        handler = getattr(self, "action_" + action, None)
        if handler is None:
            return self.error(action, 400, "InvalidAction", f"unknown action {action}")
        with state.lock:
            result = handler(params)
            if result[0] != 200:
                return self.error(action, *result)
            state.save()
        state.log(f"{action} 200 -")
        if result[2] and state.args.hook:
            subprocess.run([state.args.hook, action, *result[2]], check=False)
        self.reply(200, f'<{action}Response xmlns="{NS}"><requestId>fake-{time.time_ns()}'
                        f"</requestId>{result[1]}</{action}Response>")

    def action_AssignPrivateIpAddresses(self, p):
        enis = self.server.state.data["enis"]
        eni, address = p.get("NetworkInterfaceId"), p.get("PrivateIpAddress.1")
        if eni not in enis:
            return 400, "InvalidNetworkInterfaceID.NotFound", f"{eni} does not exist"
        holder = next((e for e, a in enis.items() if address in a), None)
        if holder not in (None, eni):
            if p.get("AllowReassignment") != "true":
                return 400, "InvalidParameterValue", f"{address} is assigned to {holder}"
            enis[holder].remove(address)
        if address not in enis[eni]:
            enis[eni].append(address)
        return (200, f"<networkInterfaceId>{eni}</networkInterfaceId>"
                     f"<assignedPrivateIpAddressesSet><item><privateIpAddress>{address}"
                     f"</privateIpAddress></item></assignedPrivateIpAddressesSet>"
                     f"<return>true</return>", [eni, address, holder or "-"])

    def action_UnassignPrivateIpAddresses(self, p):
        enis = self.server.state.data["enis"]
        eni, address = p.get("NetworkInterfaceId"), p.get("PrivateIpAddress.1")
        if address not in enis.get(eni, []):
            return 400, "InvalidParameterValue", f"{address} is not assigned to {eni}"
        enis[eni].remove(address)
        return 200, "<return>true</return>", [eni, address]

    def action_ReplaceRoute(self, p):
        tables = self.server.state.data["route_tables"]
        rtb, dest, eni = (p.get("RouteTableId"), p.get("DestinationCidrBlock"),
                          p.get("NetworkInterfaceId"))
        if rtb not in tables:
            return 400, "InvalidRouteTableID.NotFound", f"The routeTable ID '{rtb}' does not exist"
        if dest not in tables[rtb]:
            return 400, "InvalidParameterValue", f"no route to {dest} in {rtb}"
        if eni not in self.server.state.data["enis"]:
            return 400, "InvalidNetworkInterfaceID.NotFound", f"{eni} does not exist"
        tables[rtb][dest] = eni
        return 200, "<return>true</return>", [rtb, dest, eni]

    def action_DescribeRouteTables(self, p):
        tables = self.server.state.data["route_tables"]
        wanted = [v for k, v in sorted(p.items()) if k.startswith("RouteTableId.")] or tables
        items = ""
        for rtb in wanted:
            if rtb not in tables:
                return 400, "InvalidRouteTableID.NotFound", f"The routeTable ID '{rtb}' does not exist"
            routes = "".join(
                f"<item><destinationCidrBlock>{d}</destinationCidrBlock><networkInterfaceId>{e}"
                f"</networkInterfaceId><origin>CreateRoute</origin><state>active</state></item>"
                for d, e in sorted(tables[rtb].items()))
            items += (f"<item><routeTableId>{rtb}</routeTableId><vpcId>vpc-0a1b2c3d</vpcId>"
                      f"<routeSet>{routes}<item><destinationCidrBlock>10.0.0.0/16"
                      f"</destinationCidrBlock><gatewayId>local</gatewayId><origin>"
                      f"CreateRouteTable</origin><state>active</state></item></routeSet>"
                      f"<associationSet><item><routeTableAssociationId>rtbassoc-0a1b2c3d"
                      f"</routeTableAssociationId><routeTableId>{rtb}</routeTableId><main>false"
                      f"</main></item></associationSet><tagSet/></item>")
        return 200, f"<routeTableSet>{items}</routeTableSet>", None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def server_bind(self):
        # http.server's resolves the name of its address (reverse DNS).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def main():
    p = argparse.ArgumentParser()
    for name in ("state", "credentials", "region", "control", "log", "ready"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--address", default="0.0.0.0")
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--hook")
    p.add_argument("--lifetime", type=int, default=900)
    args = p.parse_args()
    server = Server((args.address, args.port), Handler)
    server.state = State(args)
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    with open(args.ready, "w") as f:
        f.write(f"{os.getpid()}\n")
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
