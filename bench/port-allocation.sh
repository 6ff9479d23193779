#!/usr/bin/env bash
# Port allocation benchmark: [NAT] PortAllocation=sequential|random|
# fully-random under port pressure, in the simulated VPC of the integration
# tests (tests/integration/lib.sh, drift-lib.sh: network namespaces, natd on
# a private bus, no networkd).
#
# natd runs with a narrowed [NAT] PortRange= (default 40000-40999: 1000
# source ports towards one destination), and each mode is applied by
# natd-ctl reload. Two generator processes (conn-gen.py), one on each
# private host (10.0.2.0/24 and 10.0.3.0/24, each with SOURCES addresses,
# pinned to different CPUs where there are two, so that the NAT sees new
# connections on every CPU at once), open short TCP connections (closed
# with an RST once established) to ONE destination, 203.0.113.1:8080 in
# the internet namespace, for DURATION seconds. Two cases:
#   many-clients  CONCURRENCY connections in flight per source address,
#                 from ephemeral ports outside PortRange= (so every
#                 connection is given a port from the range);
#   same-port     every source address connects from the SAME source port
#                 (the first of PortRange=), one connection at a time: the
#                 case where sequential allocation (keep the client's port
#                 when free) collides.
# Per mode and case: connections attempted, succeeded, failed (not
# established within 2.5 s), slow (took > 0.9 s: the first SYN was lost,
# the kernel retransmitted it after 1 s), connections per second, and the
# NAT namespace's conntrack statistics (/proc/net/stat/nf_conntrack, one
# hex row per CPU, summed; the difference over the run): insert_failed,
# drop, clashres, search_restart. Conntrack is flushed before every run.
# Modes are interleaved (the order rotates from trial to trial); the report
# gives medians, min-max and ratios to fully-random.
#
# Usage: port-allocation.sh [--quick] [--trials N] [--duration S]
#            [--sources N] [--concurrency N] [--port-range A-B]
#            [--out FILE] PATH-TO-natd [PATH-TO-natd-ctl]
#   --quick  one trial of 1 s with few sources (a smoke run for CI: proves
#            the benchmark still runs, measures nothing worth quoting);
#   --out    the Markdown report (default: bench/results-port-allocation.md
#            for a full run, none for --quick).
# Needs root; exit 77 = skipped (never when CI=true). Only traffic between
# the namespaces it creates; they are deleted on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TRIALS=5
DURATION=5
SOURCES=16
CONCURRENCY=16
PORT_RANGE=40000-40999
OUT=
QUICK=
MODES=(sequential random fully-random)
CASES=(many-clients same-port)
DST_PORT=8080

# usage [RC]: the usage lines of this header; on stderr unless RC is 0.
usage() {
    local rc=${1:-2}
    sed -n '/^# Usage:/,/deleted on exit\.$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&"$((rc == 0 ? 1 : 2))"
    exit "$rc"
}
while (($#)); do
    case $1 in
        --quick) QUICK=1 TRIALS=1 DURATION=1 SOURCES=4 CONCURRENCY=4 ;;
        --trials) TRIALS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --sources) SOURCES=$2; shift ;;
        --concurrency) CONCURRENCY=$2; shift ;;
        --port-range) PORT_RANGE=$2; shift ;;
        --out) OUT=$2; shift ;;
        -h | --help) usage 0 ;;
        -*) echo "port-allocation.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
    shift
done
(($# >= 1)) || usage
[[ $PORT_RANGE =~ ^([0-9]+)-([0-9]+)$ ]] || { echo "--port-range: FIRST-LAST, not '$PORT_RANGE'" >&2; exit 2; }
FIXED_PORT=${BASH_REMATCH[1]}
RANGE_LAST=${BASH_REMATCH[2]}
# The clients' ephemeral ports lie above the range (many-clients: every
# connection must be given a port from the range).
EPHEMERAL_FIRST=$((RANGE_LAST + 1))
((EPHEMERAL_FIRST <= 60000)) || { echo "--port-range must end below 60000" >&2; exit 2; }
[[ -z $QUICK && -z $OUT ]] && OUT=$BENCH_DIR/results-port-allocation.md

# shellcheck source=tests/integration/drift-lib.sh
source "$BENCH_DIR/../tests/integration/drift-lib.sh"
GEN=$BENCH_DIR/conn-gen.py
REPORT=$BENCH_DIR/port-allocation-report.py

drift_init bench.port-allocation "$@"
command -v conntrack >/dev/null || fail "conntrack is missing: run tests/install-deps.sh (package conntrack)"
command -v taskset >/dev/null || fail "taskset is missing (package util-linux)"
drift_vpc
drift_ready

# The private hosts' source addresses: 10.0.N.10 .. 10.0.N.(10+SOURCES-1).
declare -A HOST_SOURCES
for n in "${HOST_NETS[@]}"; do
    list=
    for ((i = 0; i < SOURCES; i++)); do
        a=10.0.$n.$((10 + i))
        ((i == 0)) || ip -n "${PFX}h$n" addr add "$a/24" dev eth0
        list+=${list:+,}$a
    done
    HOST_SOURCES[$n]=$list
    ip netns exec "${PFX}h$n" sysctl -q -w net.ipv4.ip_local_port_range="$EPHEMERAL_FIRST 60999"
done
# The destination: two servers sharing the port (SO_REUSEPORT); each
# accepts and closes a connection once its client has reset it.
ip netns exec "$NS_INET" sysctl -q -w net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192
for s in 1 2; do
    ip netns exec "$NS_INET" "$PY" "$GEN" serve "$INET_IP" "$DST_PORT" "$T/bench$s.server.pid" 3600 ||
        fail "could not start the destination server"
done
NCPU=$(nproc)
info "machine: $NCPU CPUs, $(uname -r); $TRIALS trial(s) of ${DURATION}s; $SOURCES sources per host x 2 hosts; many-clients: $CONCURRENCY in flight per source; PortRange=$PORT_RANGE; same-port: source port $FIXED_PORT"

# apply_mode MODE: natd.conf with PortAllocation=MODE and PortRange=, reload,
# ready, and the masquerade rules say so.
apply_mode() {
    local mode=$1 want rules
    write_test_config
    printf '%s\n' '' '[NAT]' "PortAllocation=$mode" "PortRange=$PORT_RANGE" >>"$ROOT/etc/natd/natd.conf"
    natd_ctl_expect 0 "reload with PortAllocation=$mode" reload
    wait_until 5 state_is ready - || fail "not ready after reload with PortAllocation=$mode: $WAIT_OUT"
    case $mode in
        sequential) want="masquerade to :$PORT_RANGE" ;;
        *) want="masquerade to :$PORT_RANGE $mode" ;;
    esac
    rules=$(ip netns exec "$NS_NAT" nft list chain ip natd postrouting)
    [[ $rules == *"$want"$'\n'* || $rules == *"$want "* ]] ||
        fail "PortAllocation=$mode: no '$want' in natd's postrouting chain:"$'\n'"$rules"
    if [[ $mode == sequential && $rules == *random* ]]; then
        fail "PortAllocation=sequential: a masquerade rule has a random flag:"$'\n'"$rules"
    fi
}

# ct_stats: "name=sum ..." of the NAT namespace's conntrack statistics.
ct_stats() {
    ip netns exec "$NS_NAT" cat /proc/net/stat/nf_conntrack | "$PY" "$REPORT" ctstat
}

# run_case CASE MODE TRIAL: one run; appends a JSON line to $ROWS.
ROWS=$T/rows.jsonl
: >"$ROWS"
run_case() {
    local kase=$1 mode=$2 trial=$3 before after n cpu=0 pids=() extra=()
    [[ $kase == same-port ]] && extra=(--fixed-port "$FIXED_PORT")
    ip netns exec "$NS_NAT" conntrack -F 2>/dev/null || true
    before=$(ct_stats)
    for n in "${HOST_NETS[@]}"; do
        ip netns exec "${PFX}h$n" taskset -c $((cpu % NCPU)) "$PY" "$GEN" run --dst "$INET_IP" --port "$DST_PORT" \
            --sources "${HOST_SOURCES[$n]}" --concurrency "$CONCURRENCY" --duration "$DURATION" \
            "${extra[@]}" >"$T/gen$n.json" 2>"$T/gen$n.err" &
        pids+=($!)
        cpu=$((cpu + 1))
    done
    for n in "${pids[@]}"; do
        wait "$n" || fail "$kase/$mode: a connection generator failed: $(cat "$T"/gen*.err)"
    done
    after=$(ct_stats)
    "$PY" "$REPORT" row "$kase" "$mode" "$trial" "$before" "$after" "$T"/gen*.json >>"$ROWS" ||
        fail "$kase/$mode: could not read the generators' output"
    info "trial $trial $kase $mode: $(tail -n 1 "$ROWS")"
}

for ((trial = 1; trial <= TRIALS; trial++)); do
    for kase in "${CASES[@]}"; do
        for ((k = 0; k < ${#MODES[@]}; k++)); do
            mode=${MODES[$(((k + trial - 1) % ${#MODES[@]}))]}
            apply_mode "$mode"
            run_case "$kase" "$mode" "$trial"
        done
    done
done
check_egress " (after the benchmark)"

machine="$NCPU CPUs ($(lscpu | awk -F: '/^Model name/ { gsub(/^ +/, "", $2); print $2; exit }')), $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r); natd: $(basename "$(dirname "$(dirname "$NATD")")")/daemon/natd, commit $(git -C "$(dirname "$NATD")" rev-parse --short HEAD 2>/dev/null || echo unknown)"
params="$TRIALS trial(s) of ${DURATION} s per mode and case; 2 generator processes (one per private host, pinned to CPUs 0 and $((1 % NCPU))), $SOURCES source addresses each; many-clients: $CONCURRENCY connections in flight per address; PortRange=$PORT_RANGE; same-port: every address connects from port $FIXED_PORT; destination $INET_IP:$DST_PORT"
"$PY" "$REPORT" report --machine "$machine" --params "$params" ${OUT:+--markdown "$OUT"} <"$ROWS" ||
    fail "could not summarize the runs"
[[ -z $OUT ]] || info "report written to $OUT"
pass "port allocation benchmark: ${#MODES[@]} modes x ${#CASES[@]} cases x $TRIALS trial(s)"
