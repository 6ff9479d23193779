#!/usr/bin/python3
"""Parses a Prometheus text exposition (stdin) with prometheus_client's own
parser, the one Prometheus' Python client uses, and checks what natd
promises of every family: the natd_ prefix, a HELP text and a TYPE, counters
named *_total. Prints one sample a line, "NAME{LABEL="VALUE",...} VALUE"
with the labels sorted (nothing in braces without labels), for the test to
look up. Exit 1, with the reason, when the text does not parse or breaks a
promise. Used by tests/integration/metrics.sh."""

import os
import sys

# This directory's inspect.py would shadow the standard library's, which
# prometheus_client imports (through decorator).
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != HERE]

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


def main() -> int:
    text = sys.stdin.read()
    if not text.endswith("\n"):
        print("the exposition does not end in a line feed", file=sys.stderr)
        return 1
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others
        print(f"prometheus_client cannot parse the exposition: {e!r}", file=sys.stderr)
        return 1
    if not families:
        print("no metric families", file=sys.stderr)
        return 1
    for f in families:
        problems = []
        if not f.name.startswith("natd_"):
            problems.append("no natd_ prefix")
        if not f.documentation:
            problems.append("no HELP")
        if f.type not in ("counter", "gauge"):
            problems.append(f"type {f.type}, not counter or gauge")
        for s in f.samples:
            if f.type == "counter" and not s.name.endswith("_total"):
                problems.append(f"counter sample {s.name} not named *_total")
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            print(f"{s.name}{{{labels}}} {int(s.value)}" if labels else f"{s.name} {int(s.value)}")
        if problems:
            print(f"family {f.name}: {'; '.join(problems)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
