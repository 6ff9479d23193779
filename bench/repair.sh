#!/usr/bin/env bash
# Repair latency after each kind of drift: tests/integration/drift.sh (the
# self-healing test: table deleted, ruleset flushed, a chain's rules
# flushed, a rule inserted, a return route deleted, forwarding off three
# ways, the table made dormant) with TRIALS undos per kind, each followed by
# a check that the private hosts reach the internet again. Its intervals
# come from drift-monitor.py's stamps of the undo's netlink event and natd's
# repair event; this script turns its TIMING lines into RESULT lines.
# Usage: repair.sh [--quick] PATH-TO-natd [PATH-TO-natd-ctl]
#   --quick  8 undos per kind (drift.sh's minimum) instead of 20.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TRIALS=20
if [[ ${1:-} == --quick ]]; then
    TRIALS=8
    shift
fi
out=$(mktemp /tmp/natd-bench-repair.XXXXXX)
trap 'rm -f "$out"' EXIT
rc=0
DRIFT_TRIALS=$TRIALS "$BENCH_DIR/../tests/integration/drift.sh" "$@" >"$out" 2>&1 || rc=$?
if ((rc != 0)); then
    cat "$out" >&2
    exit "$rc"
fi
grep -E '\] (PASS|SKIP)' "$out" | sed 's/^/  /' >&2 || true
# "[integration.drift] TIMING table: undo -> repaired, p50: 0.612 ms"
/usr/bin/python3 - "$out" "$TRIALS" <<'PYEOF'
import re, sys
path, trials = sys.argv[1], sys.argv[2]
pat = re.compile(r"TIMING (\w+): undo -> repaired, (p50|p99|max): ([0-9.]+) ms")
seen = 0
for line in open(path, encoding="utf-8"):
    m = pat.search(line)
    if m:
        kind, q, v = m.groups()
        target = "<=100" if q == "p99" else "-"
        print(f"RESULT repair.{kind}_{q}_ms {v} ms lower {target}")
        seen += 1
if not seen:
    sys.exit("repair.sh: drift.sh printed no figures")
print(f"NOTE repair {trials} undos per kind, from drift-monitor.py's stamps of the undo's event and natd's repair event; "
      "every undo comes from an nft, ip or sysctl process that exits at once")
PYEOF
