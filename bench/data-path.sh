#!/usr/bin/env bash
# Data path: what natd's ruleset costs the packets, against plain routing
# (no nftables or iptables rules at all, return routes in place, the
# internet routing the private subnets back to the NAT: nothing is
# translated) and against the baseline's three iptables rules (the
# published script's; iptables here is iptables-nft). In the simulated VPC
# of the integration tests, without networkd:
#   throughput   iperf3, 4 parallel TCP streams, private host 10.0.2.10 ->
#                the internet's 203.0.113.1, DURATION s per run;
#   connections  new TCP connections per second (bench/conn-gen.py: 4
#                source addresses x 16 in flight, each closed with an RST
#                once established, so no TIME_WAIT skews it), DURATION s.
# The three configurations are interleaved, their order rotating from
# trial to trial; medians over TRIALS, ratios to plain routing.
# veth pairs on a 2-CPU machine move packets in softirq on the sender's CPU:
# figures are CPU-bound and noisy; the ratios within one run are what count.
# Usage: data-path.sh [--quick] PATH-TO-natd [PATH-TO-natd-ctl]
#   --quick  one trial of 1 s.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TRIALS=5
DURATION=5
if [[ ${1:-} == --quick ]]; then
    TRIALS=1 DURATION=1
    shift
fi
# shellcheck source=tests/integration/drift-lib.sh
source "$BENCH_DIR/../tests/integration/drift-lib.sh"
# shellcheck source=bench/bench-lib.sh
source "$BENCH_DIR/bench-lib.sh"
GEN=$BENCH_DIR/conn-gen.py
CONFIGS=(plain natd baseline)

drift_init bench.data-path "$@"
for tool in iperf3 iptables; do
    command -v "$tool" >/dev/null || fail "$tool is missing: run tests/install-deps.sh"
done
drift_vpc
drift_ready
HOST=${PFX}h2
SOURCES=10.0.2.10
for i in 11 12 13; do
    ip -n "$HOST" addr add "10.0.2.$i/24" dev eth0
    SOURCES+=,10.0.2.$i
done
# Plain routing needs the way back; with NAT it is never used.
ip -n "$NS_INET" route add 10.0.0.0/16 via "$PUB_IP"
ip netns exec "$NS_INET" iperf3 -s -D -B "$INET_IP" -I "$T/iperf3.pid" >/dev/null
ip netns exec "$NS_INET" sysctl -q -w net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096
ip netns exec "$NS_INET" "$PY" "$GEN" serve "$INET_IP" 8080 "$T/gen.server.pid" 3600 ||
    fail "could not start the connection server"
wait_until 5 test -s "$T/iperf3.pid" || fail "iperf3 -s did not start"

RETURN_ROUTES=(10.0.2.0/24 10.0.3.0/24)
natd_running=1

without_natd() {
    if ((natd_running)); then
        natd_stop
        ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" --teardown >>"$T/teardown.log" 2>&1 ||
            fail "natd --teardown failed"
        natd_running=0
    fi
    local t
    for t in nat filter; do ip netns exec "$NS_NAT" nft delete table ip "$t" 2>/dev/null || true; done
    ip netns exec "$NS_NAT" sysctl -q -w net.ipv4.ip_forward=1
    local r
    for r in "${RETURN_ROUTES[@]}"; do ip -n "$NS_NAT" route replace "$r" via "$PRIV_GW" dev "$PRIV_DEV"; done
}

# use CONFIG: the NAT instance as CONFIG has it.
use() {
    case $1 in
        plain) without_natd ;;
        baseline)
            without_natd
            ip netns exec "$NS_NAT" iptables -t nat -A POSTROUTING -o "$PUB_DEV" -j MASQUERADE
            ip netns exec "$NS_NAT" iptables -A FORWARD -i "$PUB_DEV" -o "$PRIV_DEV" -m state --state RELATED,ESTABLISHED -j ACCEPT
            ip netns exec "$NS_NAT" iptables -A FORWARD -i "$PRIV_DEV" -o "$PUB_DEV" -j ACCEPT
            ;;
        natd)
            if ((!natd_running)); then
                local t r
                for t in nat filter; do ip netns exec "$NS_NAT" nft delete table ip "$t" 2>/dev/null || true; done
                for r in "${RETURN_ROUTES[@]}"; do ip -n "$NS_NAT" route del "$r" 2>/dev/null || true; done
                natd_start
                natd_wait_ready
                natd_running=1
            fi
            ;;
    esac
    ip netns exec "$NS_NAT" conntrack -F >/dev/null 2>&1 || true
    local out
    out=$(ip netns exec "$HOST" curl -s --max-time 2 "http://$INET_IP/") ||
        fail "$1: the private host does not reach the internet"
    case $1 in
        plain) [[ $out == 10.0.2.10 ]] || fail "plain routing: seen as '$out', expected 10.0.2.10" ;;
        *) [[ $out == "$PUB_IP" ]] || fail "$1: seen as '$out', expected $PUB_IP" ;;
    esac
}

throughput() {
    ip netns exec "$HOST" iperf3 -c "$INET_IP" -B 10.0.2.10 -P 4 -t "$DURATION" -J >"$T/iperf3.json" 2>&1 ||
        fail "iperf3 failed: $(tail -n 5 "$T/iperf3.json")"
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%.3f" % (r["end"]["sum_received"]["bits_per_second"] / 1e9))' "$T/iperf3.json"
}

connections() {
    ip netns exec "$HOST" "$PY" "$GEN" run --dst "$INET_IP" --port 8080 --sources "$SOURCES" \
        --concurrency 16 --duration "$DURATION" >"$T/gen.json" 2>"$T/gen.err" ||
        fail "conn-gen.py failed: $(cat "$T/gen.err")"
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%.0f %d" % (r["cps"], r["failed"]))' "$T/gen.json"
}

declare -A gbps cps
for ((trial = 1; trial <= TRIALS; trial++)); do
    for ((k = 0; k < ${#CONFIGS[@]}; k++)); do
        c=${CONFIGS[$(((k + trial - 1) % ${#CONFIGS[@]}))]}
        use "$c"
        g=$(throughput)
        read -r r failed < <(connections)
        gbps[$c]+=" $g"
        cps[$c]+=" $r"
        info "trial $trial, $c: $g Gbit/s, $r connections/s ($failed failed)"
    done
done
for c in "${CONFIGS[@]}"; do
    # shellcheck disable=SC2086 # the trials, one argument each
    declare "g_$c=$(quantile 0.5 ${gbps[$c]})"
    # shellcheck disable=SC2086
    declare "c_$c=$(quantile 0.5 ${cps[$c]})"
done
# shellcheck disable=SC2154 # declared above
{
    result data-path.plain_gbps "$g_plain" Gbit/s higher -
    result data-path.natd_gbps "$g_natd" Gbit/s higher -
    result data-path.baseline_gbps "$g_baseline" Gbit/s higher -
    result data-path.natd_throughput_ratio "$(ratio "$g_natd" "$g_plain")" ratio higher ">=0.97"
    result data-path.baseline_throughput_ratio "$(ratio "$g_baseline" "$g_plain")" ratio higher -
    result data-path.plain_conn_per_s "$c_plain" conn/s higher -
    result data-path.natd_conn_per_s "$c_natd" conn/s higher -
    result data-path.baseline_conn_per_s "$c_baseline" conn/s higher -
    result data-path.natd_conn_ratio "$(ratio "$c_natd" "$c_plain")" ratio higher ">=0.9"
    result data-path.baseline_conn_ratio "$(ratio "$c_baseline" "$c_plain")" ratio higher -
}
note data-path "$TRIALS trials x ${DURATION} s per configuration, interleaved; iperf3 -P 4; connections: conn-gen.py, 4 sources x 16 in flight, RST close; medians; $(nproc) CPUs, veth"
pass "data path measured"
