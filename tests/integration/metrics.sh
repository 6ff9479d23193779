#!/usr/bin/env bash
# [Metrics] in the simulated VPC (no networkd, natd on a private bus), with
# TextfileDirectory= and Listen=127.0.0.1:9647 in the NAT instance's
# namespace:
#   - the textfile directory missing at start: natd is ready anyway, says
#     so in status, and writes natd.prom once the directory is there;
#   - GET /metrics answers 200 with the exposition's Content-Type, other
#     paths 404, other methods 405;
#   - both the HTTP answer and natd.prom parse with prometheus_client's
#     parser (metrics-parse.py), every family natd_-prefixed with HELP and
#     TYPE; natd_state{state="ready"} is 1 and the other states 0;
#   - traffic from the private hosts makes natd_nat_packets_total and
#     natd_nat_bytes_total grow in both directions,
#     natd_nat_connections_total by one a connection, and leaves conntrack
#     entries; a connection from the internet makes
#     natd_dropped_packets_total{reason="in"} grow; `nft delete table ip
#     natd` makes natd_repairs_total{part="ruleset"} grow, in natd.prom too
#     (rewritten every 15 s);
#   - the veth ENIs have no ENA counters: no natd_ena_ metric;
#   - Listen= reloaded to a port another process holds: logged and a
#     warning in status (natd stays ready); natd binds it on its 15 s retry
#     once the port is free;
#   - SIGTERM leaves natd.prom saying natd_up 0.
# Usage: metrics.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.metrics "$@"
"$PY" -c 'import prometheus_client' 2>/dev/null ||
    fail "python3-prometheus-client is missing: run tests/install-deps.sh"
LISTEN=127.0.0.1:9647
TEXTFILE_DIR=var/lib/prometheus/node-exporter  # below --root
PROM=$ROOT/$TEXTFILE_DIR/natd.prom
PARSE="$PY $INTEG_DIR/metrics-parse.py"

vpc_create card
write_test_config
printf '%s\n' '' '[Metrics]' "TextfileDirectory=/$TEXTFILE_DIR" "Listen=$LISTEN" \
    >>"$ROOT/etc/natd/natd.conf"
boot_prepare
dbus_start
drift_ready

# http METHOD PATH: curl in the NAT instance; sets HTTP_CODE, HTTP_TYPE, HTTP_BODY.
http() {
    local out
    out=$(ip netns exec "$NS_NAT" curl -sS --max-time 5 -X "$1" -o "$T/http.body" \
        -w '%{http_code} %{content_type}' "http://$LISTEN$2" 2>&1) ||
        fail "curl -X $1 http://$LISTEN$2 in the NAT instance failed: $out"$'\n'"$(tail -n 20 "$T/natd.log")"
    HTTP_CODE=${out%% *}
    HTTP_TYPE=${out#* }
    HTTP_BODY=$(<"$T/http.body")
}

# scrape: GET /metrics, parsed, into SAMPLES.
scrape() {
    http GET /metrics
    [[ $HTTP_CODE == 200 ]] || fail "GET /metrics answered $HTTP_CODE: $HTTP_BODY"
    SAMPLES=$($PARSE <"$T/http.body" 2>&1) ||
        fail "GET /metrics does not parse: $SAMPLES"$'\n'"$HTTP_BODY"
}

# textfile: natd.prom, parsed, into SAMPLES; 1 when missing or unparsable.
textfile() {
    [[ -f $PROM ]] || { echo "no $PROM"; return 1; }
    SAMPLES=$($PARSE <"$PROM" 2>&1) || { echo "natd.prom does not parse: $SAMPLES"; return 1; }
}

# sample KEY: the value of sample KEY in SAMPLES (empty when absent).
sample() {
    local line
    while read -r line; do
        [[ ${line% *} == "$1" ]] && { echo "${line##* }"; return 0; }
    done <<<"$SAMPLES"
    return 0
}

# --- the textfile directory, missing at start ---------------------------------------------
wait_until 5 state_is ready "natd.prom" ||
    fail "TextfileDirectory= missing: natd is not ready with a warning saying so: $WAIT_OUT"
ctl_status 0
pass "TextfileDirectory= missing: ready, and status says: $(sj_get warnings)"
mkdir -p "$ROOT/$TEXTFILE_DIR"
wait_until 20 textfile || fail "the directory created, natd.prom did not appear within 20 s: $WAIT_OUT"
wait_until 5 state_is ready - || fail "natd.prom written, the warning stays: $WAIT_OUT"
pass "the directory created: natd.prom written within the 15 s period, warning gone"

# --- HTTP -------------------------------------------------------------------------------
scrape
metrics_type=$HTTP_TYPE
[[ $metrics_type == 'text/plain; version=0.0.4; charset=utf-8' ]] ||
    fail "GET /metrics: Content-Type '$metrics_type'"
http GET /
[[ $HTTP_CODE == 404 ]] || fail "GET / answered $HTTP_CODE, expected 404"
http GET /metrics/x
[[ $HTTP_CODE == 404 ]] || fail "GET /metrics/x answered $HTTP_CODE, expected 404"
http POST /metrics
[[ $HTTP_CODE == 405 ]] || fail "POST /metrics answered $HTTP_CODE, expected 405"
pass "GET /metrics: 200, $metrics_type; GET / and /metrics/x: 404; POST /metrics: 405"

# --- state, in both ---------------------------------------------------------------------
check_state() {
    local state want
    [[ $(sample natd_up) == 1 ]] || fail "$1: natd_up is '$(sample natd_up)'"
    for state in waiting configuring ready degraded failed; do
        want=0
        [[ $state == ready ]] && want=1
        [[ $(sample "natd_state{state=\"$state\"}") == "$want" ]] ||
            fail "$1: natd_state{state=\"$state\"} is '$(sample "natd_state{state=\"$state\"}")', expected $want"$'\n'"$SAMPLES"
    done
    [[ $(sample natd_snat_addresses) == 1 ]] || fail "$1: natd_snat_addresses is '$(sample natd_snat_addresses)', expected 1 (masquerade)"
    [[ $SAMPLES != *natd_ena_* ]] || fail "$1: ENA metrics on veth interfaces:"$'\n'"$SAMPLES"
    [[ -n $(sample natd_conntrack_entries_limit) && -n $(sample natd_conntrack_insert_failed_total) &&
        -n $(sample natd_conntrack_drop_total) ]] || fail "$1: conntrack metrics missing:"$'\n'"$SAMPLES"
}
check_state "GET /metrics"
textfile || fail "$WAIT_OUT"
check_state natd.prom
pass "both parse with prometheus_client: ready=1, the other states 0, 1 SNAT address, conntrack metrics, no natd_ena_ on veth"

# --- NAT traffic ------------------------------------------------------------------------
scrape
out_p0=$(sample 'natd_nat_packets_total{direction="out"}')
in_p0=$(sample 'natd_nat_packets_total{direction="in"}')
out_b0=$(sample 'natd_nat_bytes_total{direction="out"}')
in_b0=$(sample 'natd_nat_bytes_total{direction="in"}')
conn0=$(sample natd_nat_connections_total)
[[ -n $out_p0 && -n $in_p0 && -n $out_b0 && -n $in_b0 ]] || fail "NAT counters missing:"$'\n'"$SAMPLES"
check_egress
scrape
out_p1=$(sample 'natd_nat_packets_total{direction="out"}')
in_p1=$(sample 'natd_nat_packets_total{direction="in"}')
out_b1=$(sample 'natd_nat_bytes_total{direction="out"}')
in_b1=$(sample 'natd_nat_bytes_total{direction="in"}')
conn1=$(sample natd_nat_connections_total)
((out_p1 > out_p0 && in_p1 > in_p0 && out_b1 > out_b0 && in_b1 > in_b0)) ||
    fail "traffic did not move the NAT counters: packets out $out_p0 -> $out_p1, in $in_p0 -> $in_p1, bytes out $out_b0 -> $out_b1, in $in_b0 -> $in_b1"
pass "traffic: packets out $out_p0 -> $out_p1, in $in_p0 -> $in_p1; bytes out $out_b0 -> $out_b1, in $in_b0 -> $in_b1"
((conn1 == conn0 + ${#HOST_NETS[@]})) ||
    fail "${#HOST_NETS[@]} connections: natd_nat_connections_total $conn0 -> $conn1"
pass "natd_nat_connections_total $conn0 -> $conn1 for ${#HOST_NETS[@]} connections"
entries=$(sample natd_conntrack_entries)
((entries > 0)) || fail "natd_conntrack_entries is '$entries' after $((${#HOST_NETS[@]})) connections"
pass "natd_conntrack_entries $entries of $(sample natd_conntrack_entries_limit) after the connections"

# --- dropped traffic --------------------------------------------------------------------
drop0=$(sample 'natd_dropped_packets_total{reason="in"}')
[[ -n $drop0 ]] || fail "no natd_dropped_packets_total{reason=\"in\"}:"$'\n'"$SAMPLES"
check_inbound_blocked
scrape
drop1=$(sample 'natd_dropped_packets_total{reason="in"}')
((drop1 > drop0)) || fail "a connection from the internet: natd_dropped_packets_total{reason=\"in\"} $drop0 -> $drop1"
pass "natd_dropped_packets_total{reason=\"in\"} $drop0 -> $drop1 for a connection from the internet"

# --- a repair ---------------------------------------------------------------------------
rep0=$(sample 'natd_repairs_total{part="ruleset"}')
[[ $rep0 == 0 ]] || fail "natd_repairs_total{part=\"ruleset\"} is '$rep0' before any repair"
ip netns exec "$NS_NAT" nft delete table ip natd
repaired() {
    scrape
    [[ $(sample 'natd_repairs_total{part="ruleset"}') == 1 ]] ||
        { echo "natd_repairs_total{part=\"ruleset\"} $(sample 'natd_repairs_total{part="ruleset"}')"; return 1; }
}
wait_until 5 repaired || fail "table deleted: $WAIT_OUT"
[[ $(sample 'natd_repairs_total{part="routes"}') == 0 ]] || fail "a ruleset repair counted for routes:"$'\n'"$SAMPLES"
pass "nft delete table ip natd: natd_repairs_total{part=\"ruleset\"} 0 -> 1, the other parts 0"
textfile_repaired() {
    textfile || return 1
    [[ $(sample 'natd_repairs_total{part="ruleset"}') == 1 ]] ||
        { echo "natd.prom: ruleset repairs $(sample 'natd_repairs_total{part="ruleset"}')"; return 1; }
}
wait_until 20 textfile_repaired || fail "natd.prom did not show the repair within 20 s: $WAIT_OUT"
pass "natd.prom shows the repair within the 15 s period"
check_egress " (after the repair)"

# --- Listen= on a port in use: loud, retried -----------------------------------------------
BUSY=127.0.0.1:9648
ip netns exec "$NS_NAT" "$PY" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 9648))
s.listen()
time.sleep(float(sys.argv[1]))' 60 &
BLOCKER_PID=$!
bound() {
    local out
    out=$(ip netns exec "$NS_NAT" ss -Hltn "sport = :9648")
    [[ -n $out ]] || { echo "nothing listens on $BUSY yet"; return 1; }
}
wait_until 5 bound || fail "the blocker did not bind $BUSY: $WAIT_OUT"
sed -i "s/^Listen=.*/Listen=$BUSY/" "$ROOT/etc/natd/natd.conf"
natd_ctl reload
((CTL_RC == 0)) || fail "natd-ctl reload exited $CTL_RC: $CTL_ERR"
wait_until 5 state_is ready "Could not listen on $BUSY" ||
    fail "Listen=$BUSY in use: no warning in status: $WAIT_OUT"
ctl_status 0
grep -q "Could not listen on $BUSY" "$T/natd.log" || fail "Listen=$BUSY in use: nothing in natd's log"
pass "Listen=$BUSY in use: logged, and status (still ready) says: $(sj_get warnings)"
kill -KILL "$BLOCKER_PID"
wait "$BLOCKER_PID" 2>/dev/null || true
LISTEN=$BUSY
serving() {
    ip netns exec "$NS_NAT" curl -sS --max-time 2 -o /dev/null "http://$LISTEN/metrics" 2>&1
}
wait_until 20 serving || fail "$BUSY freed: natd did not bind it within 20 s: $WAIT_OUT"
wait_until 5 state_is ready - || fail "$BUSY bound, the warning stays: $WAIT_OUT"
scrape
pass "$BUSY freed: natd binds it within its 15 s retry, the warning goes, GET /metrics parses"

# --- stopping ---------------------------------------------------------------------------
kill -TERM "$NATD_PID"
wait_exit "$NATD_PID" 10 || fail "natd did not exit within 10 s of SIGTERM"
NATD_PID=
textfile || fail "after SIGTERM: $WAIT_OUT"
[[ $SAMPLES == 'natd_up 0' ]] || fail "after SIGTERM natd.prom holds:"$'\n'"$SAMPLES"
pass "SIGTERM: natd.prom says natd_up 0 and nothing else"
