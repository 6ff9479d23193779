#!/usr/bin/env bash
# Capacity benchmark (issue 14, item 6): concurrent tracked connections
# through the NAT, in the simulated VPC of the integration tests
# (tests/integration/lib.sh, drift-lib.sh: network namespaces, natd on a
# private bus, no networkd).
#
# Part 1, conntrack: natd runs with [Conntrack] Max=CT_MAX. Private host
# 10.0.2.10 (SOURCES addresses, ephemeral ports 10000-60999) opens COUNT
# TCP connections (conn-hold.py, one process per destination port, at most
# PER_PROC connections and 500 handshakes in flight each: the open-file
# limit may not be raisable) to 203.0.113.1, ports 8080 and up
# (masquerade to one public address: ~64k ports per destination address
# and port), and holds them. Measured: connections held (the client's count, and the
# established sockets `ss` sees in the client namespace), conntrack's
# entries in the NAT namespace, the sum over CPUs of drop, insert_failed
# and early_drop of /proc/net/stat/nf_conntrack (difference over the run;
# target 0), and the time to open them all.
#
# Part 2, the SNAT pool: [NAT] Addresses= with 1, 2, 4 of the public ENI's
# addresses (203.0.113.10-13), PoolMode=random, PortRange=POOL_RANGE
# (default 40000-40999: 1000 source ports per address towards one
# destination address and port). The private host opens, all at once,
# more connections than the pool can translate to ONE destination,
# 203.0.113.1:8080, and counts those established within POOL_TIMEOUT
# seconds (a SYN that finds its address's ports taken is dropped; its
# retransmissions at 1, 3, 7 s choose an address again). The most held
# should grow with the number of addresses (~1000 each).
#
# Usage: capacity.sh [--quick] [--count N] [--pool-range A-B]
#            PATH-TO-natd [PATH-TO-natd-ctl]
#   --quick  5,000 connections, pool sizes 1 and 2, PortRange=40000-40099
#            (a smoke run: proves the benchmark runs).
# Output: progress lines, and on stdout
#   RESULT capacity.<metric> <value> <unit> <lower|higher> <target>
#   NOTE capacity <text>
# Needs root; exit 77 = skipped (never when CI=true). Only traffic between
# the namespaces it creates; they are deleted on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COUNT=100000
CT_MAX=300000
SOURCES=4
# One holding process per destination port, at most PER_PROC connections
# each: the open-file limit (ulimit -Hn) may be too low for one process and
# not raisable (no CAP_SYS_RESOURCE in a container).
PER_PROC=15000
POOL_SIZES=(1 2 4)
POOL_RANGE=40000-40999
POOL_TIMEOUT=8
QUICK=

usage() {
    local rc=${1:-2}
    sed -n '/^# Usage:/,/deleted on exit\.$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&"$((rc == 0 ? 1 : 2))"
    exit "$rc"
}
while (($#)); do
    case $1 in
        --quick) QUICK=1 COUNT=5000 POOL_SIZES=(1 2) POOL_RANGE=40000-40099 POOL_TIMEOUT=4 ;;
        --count) COUNT=$2; shift ;;
        --pool-range) POOL_RANGE=$2; shift ;;
        -h | --help) usage 0 ;;
        -*) echo "capacity.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
    shift
done
(($# >= 1)) || usage
[[ $POOL_RANGE =~ ^([0-9]+)-([0-9]+)$ ]] || { echo "--pool-range: FIRST-LAST, not '$POOL_RANGE'" >&2; exit 2; }
RANGE_PORTS=$((BASH_REMATCH[2] - BASH_REMATCH[1] + 1))

# shellcheck source=tests/integration/drift-lib.sh
source "$BENCH_DIR/../tests/integration/drift-lib.sh"
HOLD=$BENCH_DIR/conn-hold.py

drift_init bench.capacity "$@"
command -v conntrack >/dev/null || fail "conntrack is missing: run tests/install-deps.sh (package conntrack)"
command -v ss >/dev/null || fail "ss is missing (package iproute2)"
vpc_create card
# The pool's addresses, on the public ENI (each an Elastic IP's on EC2).
for a in 203.0.113.11 203.0.113.12 203.0.113.13; do ip -n "$NS_NAT" addr add "$a/24" dev "$PUB_DEV"; done
write_test_config
printf '%s\n' '' '[Conntrack]' "Max=$CT_MAX" >>"$ROOT/etc/natd/natd.conf"
boot_prepare
dbus_start
drift_ready

result() { printf 'RESULT capacity.%s %s %s %s %s\n' "$@"; }
note() { printf 'NOTE capacity %s\n' "$*"; }
CLIENT=${PFX}h2
SRC_LIST=
for ((i = 0; i < SOURCES; i++)); do
    a=10.0.2.$((10 + i))
    ((i == 0)) || ip -n "$CLIENT" addr add "$a/24" dev eth0
    SRC_LIST+=${SRC_LIST:+,}$a
done
ip netns exec "$CLIENT" sysctl -q -w net.ipv4.ip_local_port_range="10000 60999"
ip netns exec "$NS_INET" sysctl -q -w net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
NOFILE=$(ulimit -Hn)
[[ $NOFILE == unlimited ]] || ((NOFILE > PER_PROC + 1000)) || PER_PROC=$((NOFILE - 1000))
NPROC=$(((COUNT + PER_PROC - 1) / PER_PROC))
DST_PORTS=()
for ((i = 0; i < NPROC; i++)); do
    DST_PORTS+=($((8080 + i)))
    ip netns exec "$NS_INET" "$PY" "$HOLD" serve "$INET_IP" $((8080 + i)) "$T/hold$i.server.pid" 3600 ||
        fail "could not start the holding server on port $((8080 + i))"
done
ports=$(IFS=,; echo "${DST_PORTS[*]}")
nat() { ip netns exec "$NS_NAT" "$@"; }

# ct_stats: "name=sum ..." of the NAT namespace's conntrack statistics.
ct_stats() {
    nat cat /proc/net/stat/nf_conntrack | "$PY" "$BENCH_DIR/port-allocation-report.py" ctstat
}
# stat_of NAME STATS: one value of ct_stats' output.
stat_of() {
    local kv
    for kv in $2; do [[ ${kv%%=*} == "$1" ]] && { echo "${kv#*=}"; return; }; done
    echo 0
}
ct_count() { nat cat /proc/sys/net/netfilter/nf_conntrack_count; }
established() { ip netns exec "$CLIENT" ss -Htn state established | wc -l; }

HOLDER_PIDS=()
# holders_done: every holder wrote its result (2: one of them died).
holders_done() {
    local i
    for ((i = 0; i < ${#HOLDER_PIDS[@]}; i++)); do
        [[ -s $T/holder$i.json ]] && continue
        kill -0 "${HOLDER_PIDS[i]}" 2>/dev/null || { cat "$T/holder$i.err"; return 2; }
        return 1
    done
}
# hold_open SECONDS PORT,... COUNT ARGS...: one conn-hold.py open per
# destination port in the client namespace, in the background, COUNT
# connections in all; returns once each has written its result (they then
# hold). Sets H_HELD, H_FAILED (failed + errors), H_SECONDS (the slowest).
hold_open() {
    local secs=$1 plist=$2 count=$3 p i=0 n
    shift 3
    IFS=, read -r -a p <<<"$plist"
    rm -f "$T"/holder*.json
    for ((i = 0; i < ${#p[@]}; i++)); do
        n=$((count / ${#p[@]} + (i < count % ${#p[@]} ? 1 : 0)))
        ip netns exec "$CLIENT" "$PY" "$HOLD" open --dst "$INET_IP" --sources "$SRC_LIST" --ports "${p[i]}" \
            --count "$n" --result "$T/holder$i.json" "$@" 2>"$T/holder$i.err" &
        HOLDER_PIDS+=($!)
    done
    wait_until "$secs" holders_done || fail "conn-hold.py: no result from every holder within ${secs}s: $WAIT_OUT"
    read -r H_HELD H_FAILED H_SECONDS < <("$PY" -c '
import json, sys
rows = [json.load(open(f)) for f in sys.argv[1:]]
print(sum(r["held"] for r in rows), sum(r["failed"] + r["errors"] for r in rows), max(r["seconds"] for r in rows))' "$T"/holder*.json)
}
# hold_close: end the holders (their sockets reset), conntrack flushed, until
# the server holds nothing.
hold_close() {
    local pid
    for pid in "${HOLDER_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${HOLDER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    HOLDER_PIDS=()
    wait_until 30 test "$(ip netns exec "$NS_INET" ss -Htn state established | wc -l)" -eq 0 ||
        info "note: the server still holds connections 30 s after the client ended"
    nat conntrack -F 2>/dev/null || true
}

# --- part 1: COUNT connections tracked ---------------------------------------
ctl_status ''
ct_note=$(sj_get warnings)
max_now=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
nat conntrack -F 2>/dev/null || true
before=$(ct_stats)
count0=$(ct_count)
info "part 1: $COUNT connections from $SOURCES sources to $INET_IP ports $ports (nf_conntrack_max $max_now)"
hold_open 300 "$ports" "$COUNT" --inflight 500 --timeout 5
held=$H_HELD secs=$H_SECONDS failed=$H_FAILED
sleep 1  # the last ACKs reach the server
est=$(established)
entries=$(ct_count)
after=$(ct_stats)
drops=0
declare -A D
for k in drop insert_failed early_drop; do
    D[$k]=$(($(stat_of "$k" "$after") - $(stat_of "$k" "$before")))
    drops=$((drops + D[$k]))
done
info "part 1: held $held (ss: $est established), failed $failed, in ${secs}s; conntrack $count0 -> $entries entries; drop ${D[drop]} insert_failed ${D[insert_failed]} early_drop ${D[early_drop]}"
hold_close

result connections_held "$held" connections higher ">=$COUNT"
result connections_established_ss "$est" connections higher ">=$COUNT"
result conntrack_entries "$entries" entries higher ">=$COUNT"
result conntrack_drops "$drops" packets lower "<=0"
result connections_failed "$failed" connections lower "<=0"
result open_seconds "$secs" s lower -
result open_rate "$(awk -v n="$held" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')" conn/s higher -

# --- part 2: the SNAT pool ------------------------------------------------------
# natd_has_pool N: natd's postrouting chain translates to N addresses.
natd_has_pool() {
    local rules got
    rules=$(nat nft list chain ip natd postrouting) || return 1
    got=$(grep -o 'snat to 203\.0\.113\.1[0-9]' <<<"$rules" | sort -u | wc -l)
    ((got == $1)) || { echo "$got address(es), expected $1:"$'\n'"$rules"; return 1; }
}
POOL=(203.0.113.10 203.0.113.11 203.0.113.12 203.0.113.13)
declare -A POOL_HELD
for n in "${POOL_SIZES[@]}"; do
    printf '%s\n' '' '[NAT]' "Addresses=${POOL[*]:0:n}" PoolMode=random "PortRange=$POOL_RANGE" >>"$ROOT/etc/natd/natd.conf"
    natd_ctl_expect 0 "reload with $n pool address(es)" reload
    wait_until 5 natd_has_pool "$n" || fail "$n pool address(es): natd's postrouting chain: $WAIT_OUT"
    attempt=$((n * RANGE_PORTS * 3 / 2))
    nat conntrack -F 2>/dev/null || true
    hold_open $((POOL_TIMEOUT + 60)) 8080 "$attempt" --timeout "$POOL_TIMEOUT"
    POOL_HELD[$n]=$H_HELD
    info "pool of $n: ${POOL_HELD[$n]} of $attempt connections to $INET_IP:8080 held (PortRange=$POOL_RANGE), conntrack $(ct_count) entries"
    hold_close
done
for n in "${POOL_SIZES[@]}"; do
    result "pool_held_$n" "${POOL_HELD[$n]}" connections higher ">=$((n * RANGE_PORTS * 95 / 100))"
done
last=${POOL_SIZES[-1]}
result "pool_ratio_${last}_to_1" "$(awk -v a="${POOL_HELD[$last]}" -v b="${POOL_HELD[1]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" ratio higher ">=$(awk -v n="$last" 'BEGIN { printf "%.2f", n * 0.95 }')"

note "machine: $(nproc) CPUs, $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), shared with other work"
note "[Conntrack] Max=$CT_MAX was not applied: net.netfilter.nf_conntrack_max is global and read-only inside a network namespace; it stays the init namespace's $max_now (each namespace's count is held against it); natd-ctl status warnings: $ct_note"
note "part 1: $COUNT connections from 10.0.2.10-$((9 + SOURCES)) (ephemeral ports 10000-60999, IP_BIND_ADDRESS_NO_PORT) to $INET_IP ports $ports (masquerade to the one public address $PUB_IP: ~64k source ports per destination port), $NPROC holding processes (one per destination port, at most 500 handshakes in flight each) and $NPROC server processes: the open-file limit here is $NOFILE per process and cannot be raised (no CAP_SYS_RESOURCE); drops = drop + insert_failed + early_drop of /proc/net/stat/nf_conntrack in the NAT namespace, summed over CPUs, difference over the run (drop ${D[drop]}, insert_failed ${D[insert_failed]}, early_drop ${D[early_drop]})"
note "part 2: PoolMode=random, PortRange=$POOL_RANGE ($RANGE_PORTS ports per address), $((RANGE_PORTS * 3 / 2)) connections attempted per address at once to $INET_IP:8080, counted after up to ${POOL_TIMEOUT} s (SYN retransmissions choose an address again)"
[[ -z $QUICK ]] || note "--quick: $COUNT connections, pool sizes ${POOL_SIZES[*]}, a smoke run"
pass "capacity benchmark: $held connections held, pools of ${POOL_SIZES[*]}"
