#!/usr/bin/env bash
# natd's benchmark suite: builds natd (Release) unless given one, runs every
# benchmark in the simulated VPC, one after the other, prints the table,
# and writes the figures:
#   full run   bench/results.md (the table, the notes, bench/targets.md,
#              the machine) and bench/results.json (the figures the CI
#              guard compares with);
#   --quick    each benchmark's smoke run (a few trials: proves it runs,
#              measures nothing worth quoting); figures to --json only;
#              with --guard REFERENCE.json, exits 1 when a figure is an
#              order of magnitude worse than the reference's.
# Usage: run.sh [--quick] [--natd PATH] [--only NAME[,NAME...]]
#               [--json FILE] [--guard REFERENCE.json]
#   NAMEs: reaction repair idle data-path capacity failover startup
# Root (network namespaces); the integration tests' dependencies
# (bash tests/install-deps.sh). Exit 1 when a benchmark failed.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(dirname "$BENCH_DIR")
PY=/usr/bin/python3
ALL=(reaction repair idle data-path capacity failover startup)
QUICK='' NATD='' ONLY='' JSON='' GUARD=''
while (($#)); do
    case $1 in
        --quick) QUICK=--quick ;;
        --natd) NATD=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --json) JSON=$2; shift ;;
        --guard) GUARD=$2; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

if [[ $EUID -ne 0 ]]; then
    # The benchmarks build network namespaces; in CI they must run.
    [[ ${CI:-} == true ]] && { echo "run.sh: needs root (CI=true: refusing to skip)" >&2; exit 1; }
    echo "run.sh: needs root; skipped" >&2
    exit 77
fi
if [[ -z $NATD ]]; then
    cmake -S "$SRC_DIR" -B "$SRC_DIR/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$SRC_DIR/build-bench" --parallel "$(nproc)"
    NATD=$SRC_DIR/build-bench/daemon/natd
fi
NATD=$(realpath "$NATD")
CTL=$(dirname "$NATD")/natd-ctl

benches=("${ALL[@]}")
[[ -z $ONLY ]] || IFS=, read -ra benches <<<"$ONLY"
logs=$(mktemp -d /tmp/natd-bench.XXXXXX)
trap 'rm -rf "$logs"' EXIT
pairs=() failed=()
for b in "${benches[@]}"; do
    [[ -x $BENCH_DIR/$b.sh ]] || { echo "run.sh: no benchmark $b" >&2; exit 2; }
    echo "run.sh: $b ${QUICK:-(full)}" >&2
    rc=0
    start=$SECONDS
    "$BENCH_DIR/$b.sh" $QUICK "$NATD" "$CTL" >"$logs/$b.log" 2>&1 || rc=$?
    if ((rc != 0)); then
        failed+=("$b")
        echo "STATUS failed (exit $rc)" >>"$logs/$b.log"
        echo "run.sh: $b FAILED (exit $rc); its output:" >&2
        tail -n 60 "$logs/$b.log" | sed 's/^/  /' >&2
    fi
    grep -E '^(RESULT|NOTE) ' "$logs/$b.log" | sed 's/^/  /' >&2 || true
    echo "run.sh: $b took $((SECONDS - start)) s" >&2
    pairs+=("$b=$logs/$b.log")
done

out_json=${JSON:-$logs/results.json}
[[ -n $QUICK || -n $JSON ]] || out_json=$BENCH_DIR/results.json
"$PY" "$BENCH_DIR/report.py" collect "$out_json" "${pairs[@]}"
"$PY" "$BENCH_DIR/report.py" table "$out_json"

if [[ -z $QUICK ]]; then
    machine="$(nproc) CPUs ($(lscpu | awk -F: '/^Model name/ { gsub(/^ +/, "", $2); print $2; exit }')), $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME"); natd commit $(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown); $(date -u +%Y-%m-%d)"
    "$PY" "$BENCH_DIR/report.py" markdown "$out_json" "$BENCH_DIR/results.md" \
        --machine "$machine" --command "bench/run.sh" --append "$BENCH_DIR/targets.md"
    echo "run.sh: wrote bench/results.md and $out_json" >&2
fi
status=0
if [[ -n $GUARD ]]; then
    "$PY" "$BENCH_DIR/report.py" guard "$out_json" "$GUARD" || status=1
fi
if ((${#failed[@]})); then
    echo "run.sh: failed: ${failed[*]}" >&2
    status=1
fi
exit "$status"
