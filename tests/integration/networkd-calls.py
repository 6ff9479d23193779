#!/usr/bin/python3
"""What natd asked systemd-networkd over D-Bus, from `busctl monitor --json=short`
logs (networkd-lib.sh's bus_monitor_start writes one per boot).

  networkd-calls.py NATD_LOG RELOADS MONITOR_LOG...

natd's connections are those that owned io.natd1 on that boot's bus; the
calls counted are theirs to org.freedesktop.network1 since the first
timestamped line of NATD_LOG (a slice of natd's log; natd logs local time
to the ms). Reading properties, introspection and Peer do not count.

Exit status: 0 when natd called Manager.Reload exactly RELOADS times and
nothing else (a summary on stdout), 1 otherwise (the calls on stderr).
"""

import datetime
import json
import re
import sys

NETWORKD = "org.freedesktop.network1"
RELOAD = ("org.freedesktop.network1.Manager", "Reload")
READS = ("org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Introspectable",
         "org.freedesktop.DBus.Peer")


def slice_start_us(natd_log: str) -> int:
    for line in open(natd_log, encoding="utf-8", errors="replace"):
        m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) ", line)
        if m:
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
            return round(t * 1000) * 1000
    raise SystemExit(f"no natd log line in {natd_log}: cannot tell when it began")


def owners(messages: list, name: str) -> set:
    return {m["payload"]["data"][2] for m in messages
            if m.get("member") == "NameOwnerChanged" and m["payload"]["data"][0] == name
            and m["payload"]["data"][2]}


def natd_calls(monitor_log: str, since_us: int) -> list:
    messages = [json.loads(line) for line in open(monitor_log, encoding="utf-8")
                if line.startswith("{")]
    natd = owners(messages, "io.natd1")
    networkd = owners(messages, NETWORKD) | {NETWORKD}
    return [m for m in messages
            if m["type"] == "method_call" and m.get("sender") in natd
            and m.get("destination") in networkd and m["timestamp-realtime"] >= since_us
            and m.get("interface") not in READS]


def show(m: dict) -> str:
    t = datetime.datetime.fromtimestamp(m["timestamp-realtime"] / 1e6).strftime("%H:%M:%S.%f")
    return f"{t[:-3]} {m['sender']} {m.get('interface')}.{m.get('member')}{json.dumps(m['payload']['data'])}"


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    since_us = slice_start_us(sys.argv[1])
    want = int(sys.argv[2])
    calls = [c for log in sys.argv[3:] for c in natd_calls(log, since_us)]
    reloads = [m for m in calls if (m.get("interface"), m.get("member")) == RELOAD]
    if len(reloads) != want or len(reloads) != len(calls):
        print(f"{len(reloads)} Manager.Reload (expected {want}), {len(calls) - len(reloads)} other "
              "calls:\n" + "\n".join(show(m) for m in calls), file=sys.stderr)
        return 1
    print(f"{len(reloads)} Manager.Reload, nothing else" + "".join("; " + show(m) for m in reloads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
