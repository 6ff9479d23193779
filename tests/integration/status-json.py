#!/usr/bin/python3
"""Reads the output of `natd-ctl status --json` on stdin and answers one
question (doc/natd-ctl-status-json.txt is the schema).

  status-json.py validate          every documented key is there, with its
                                   documented type (null only where allowed)
  status-json.py expect PATH=JSON...
                                   each dotted PATH (public.name,
                                   nftables.present) holds the JSON value
  status-json.py get PATH          the value at PATH, as JSON (strings bare)
  status-json.py packets ROLE      packets of natd's counter(s) of that role
  status-json.py routes            "DEST via GW present|missing", one a line,
                                   sorted

Exit status: 0 yes (the answer on stdout), 1 no (the reason on stderr).
"""

import json
import sys

STR, NUM, BOOL, NULL = "string", "number", "boolean", "null"

INTERFACE = {
    "selector": (STR,),
    "name": (STR, NULL),
    "ifindex": (NUM, NULL),
    "mac": (STR, NULL),
    "operstate": (STR, NULL),
    "addresses": ([STR],),
    "source": (STR, NULL),
}
SCHEMA = {
    "reachable": (BOOL,),
    "state": (STR,),
    "since_usec": (NUM, NULL),
    "status": (STR,),
    "waiting_for": ([STR],),
    "public": (INTERFACE,),
    "private": (INTERFACE,),
    "forwarding": (BOOL, NULL),
    "nftables": (
        {
            "table": (STR,),
            "present": (BOOL,),
            "verified": (BOOL,),
            "counters": (
                [{"role": (STR,), "rule": (STR,), "packets": (NUM,), "bytes": (NUM,)}],
            ),
        },
    ),
    "routes": ([{"destination": (STR,), "gateway": (STR,), "present": (BOOL,)}],),
    "route_owner": (STR, NULL),
    "flow_offload": (STR, NULL),
    "files": ([STR],),
    "conntrack": ({"count": (NUM, NULL), "max": (NUM, NULL)},),
    "repairs": (NUM,),
    "last_repair_usec": (NUM, NULL),
    "warnings": ([STR],),
    "discovery": (
        {
            "imds": (STR, NULL),
            "endpoint": (STR, NULL),
            "error": (STR, NULL),
            "instance_id": (STR, NULL),
            "notes": ([STR],),
            "enis": (
                [
                    {
                        "mac": (STR,),
                        "interface": (STR, NULL),
                        "interface_id": (STR, NULL),
                        "device_number": (NUM, NULL),
                        "network_card": (NUM,),
                        "subnet": (STR, NULL),
                        "vpc_cidrs": ([STR],),
                        "local_ipv4s": ([STR],),
                        "public_ipv4s": ([STR],),
                    }
                ],
            ),
        },
    ),
    "facts": ([{"fact": (STR,), "value": (STR,), "source": (STR,)}],),
    "high_availability": (
        {
            "role": (STR,),
            "vrrp": (STR,),
            "status": (STR,),
            "peer": (STR,),
            "floating_address": (STR,),
            "holds_floating_address": (BOOL,),
            "route_tables": ([STR],),
            "role_since_usec": (NUM, NULL),
            "last_transition": (
                {"role": (STR,), "since_usec": (NUM,), "duration_usec": (NUM,)},
                NULL,
            ),
            "steps": (
                [{"step": (STR,), "state": (STR,), "failures": (NUM,), "error": (STR, NULL)}],
            ),
            "ec2_endpoint": (STR, NULL),
            "region": (STR, NULL),
            "instance_role": (STR, NULL),
            "sync": (
                {
                    "internal_entries": (NUM,),
                    "external_entries": (NUM,),
                    "packets_sent": (NUM,),
                    "packets_received": (NUM,),
                    "errors": (NUM,),
                    "lost_messages": (NUM,),
                    "error": (STR, NULL),
                },
            ),
        },
        NULL,
    ),
}
STATES = {"waiting", "configuring", "ready", "degraded", "failed", "unreachable"}
ROLES = {"masquerade", "drop-invalid", "forward-out", "drop-out", "return-in", "drop-in",
         "drop-hairpin", "drop-other", "clamp-mss", "snat"}


def kind(v) -> str:
    if v is None:
        return NULL
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, (int, float)):
        return NUM
    if isinstance(v, str):
        return STR
    return type(v).__name__


def check(value, allowed: tuple, where: str, problems: list) -> None:
    for a in allowed:
        if isinstance(a, dict):
            if isinstance(value, dict):
                check_object(value, a, where, problems)
                return
        elif isinstance(a, list):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    check(item, (a[0],), f"{where}[{i}]", problems)
                return
        elif kind(value) == a:
            return
    problems.append(f"{where}: {json.dumps(value)} is not {allowed_text(allowed)}")


def allowed_text(allowed: tuple) -> str:
    parts = []
    for a in allowed:
        parts.append("an object" if isinstance(a, dict) else "an array" if isinstance(a, list) else a)
    return " or ".join(parts)


def check_object(obj: dict, schema: dict, where: str, problems: list) -> None:
    for key, allowed in schema.items():
        path = f"{where}.{key}" if where else key
        if key not in obj:
            problems.append(f"{path}: missing (a value natd cannot know must be null, not omitted)")
        else:
            check(obj[key], allowed, path, problems)


def validate(doc: dict) -> int:
    problems: list = []
    check_object(doc, SCHEMA, "", problems)
    if not problems:
        if doc["state"] not in STATES:
            problems.append(f"state: {doc['state']!r} is none of {sorted(STATES)}")
        if doc["reachable"] != (doc["state"] != "unreachable"):
            problems.append(f"reachable {doc['reachable']} but state {doc['state']!r}")
        if doc["nftables"]["table"] != "ip natd":
            problems.append(f"nftables.table: {doc['nftables']['table']!r}, expected 'ip natd'")
        for c in doc["nftables"]["counters"]:
            if c["role"] not in ROLES:
                problems.append(f"nftables.counters: unknown role {c['role']!r} ({c['rule']})")
        if doc["route_owner"] not in (None, "natd", "networkd"):
            problems.append(f"route_owner: {doc['route_owner']!r}")
        if doc["waiting_for"] and doc["state"] != "waiting":
            problems.append(f"waiting_for is not empty in state {doc['state']!r}: {doc['waiting_for']}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"all {len(SCHEMA)} documented keys present and well-typed")
    return 0


def lookup(doc, path: str):
    v = doc
    for part in path.split("."):
        if not isinstance(v, dict) or part not in v:
            raise KeyError(path)
        v = v[part]
    return v


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    raw = sys.stdin.read()
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as e:
        print(f"not JSON ({e}): {raw[:500]!r}", file=sys.stderr)
        return 1
    if not isinstance(doc, dict):
        print(f"not a JSON object: {raw[:500]!r}", file=sys.stderr)
        return 1
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        if cmd == "validate":
            return validate(doc)
        if cmd == "get":
            v = lookup(doc, args[0])
            print(v if isinstance(v, str) else json.dumps(v))
            return 0
        if cmd == "expect":
            bad = []
            for a in args:
                path, _, want = a.partition("=")
                have = lookup(doc, path)
                if have != json.loads(want):
                    bad.append(f"{path} is {json.dumps(have)}, expected {want}")
            if bad:
                print("; ".join(bad), file=sys.stderr)
                return 1
            print(", ".join(args))
            return 0
        if cmd == "packets":
            mine = [c for c in doc["nftables"]["counters"] if c["role"] == args[0]]
            if not mine:
                roles = [c["role"] for c in doc["nftables"]["counters"]]
                print(f"no counter with role {args[0]!r}; roles: {roles}", file=sys.stderr)
                return 1
            print(sum(c["packets"] for c in mine))
            return 0
        if cmd == "routes":
            lines = sorted(
                f"{r['destination']} via {r['gateway']} {'present' if r['present'] else 'missing'}"
                for r in doc["routes"]
            )
            print("\n".join(lines))
            return 0
    except KeyError as e:
        print(f"no key {e.args[0]!r} in: {raw[:2000]}", file=sys.stderr)
        return 1
    print(f"unknown command {cmd!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
