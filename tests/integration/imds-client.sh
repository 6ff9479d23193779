#!/usr/bin/env bash
# natd's IMDSv2 client and discovery (lib/imds-*.hpp, through
# natd-imds-probe) against fake-imds.py, a metadata service of the project's
# own that enforces IMDSv2, in a namespace reachable from the NAT instance's
# at 169.254.169.254 (a veth, link-local /16 as on EC2):
#   - discovery: instance id, primary MAC, both ENIs' device numbers, ENI
#     ids, subnets, VPC CIDR blocks, addresses; one token, every GET with it,
#     not one 401;
#   - a token granted for 2 s: renewed before it expires (two tokens over
#     two rounds 3 s apart, still no 401); tokens revoked mid-run: the 401 is
#     answered with a fresh token and the round succeeds;
#   - the transient device-number 0 of a fresh secondary ENI: not trusted
#     (null, said why); the primary's 0 is;
#   - 500 twice on one item: retried, found; a 403 on the token (IMDS
#     turned off): reported at once, not retried; nothing listening: every
#     request fails after its attempts, in bounded time;
#   - IMDS stalled for 3 s on one item (1 s request timeout): the item is
#     retried and found, and a 10 ms timer on the same loop is never more
#     than 50 ms late (the loop never waits on the network).
# Usage: imds-client.sh PATH-TO-natd PATH-TO-natd-imds-probe   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

lib_init integration.imds-client "$1"
PROBE=${2:?usage: $0 PATH-TO-natd PATH-TO-natd-imds-probe}
[[ -x $PROBE ]] || fail "natd-imds-probe '$PROBE' is not executable"

IMDS_IP=169.254.169.254
PRIMARY_MAC=0a:00:00:00:00:05
SECONDARY_MAC=0a:00:00:00:00:06
NS_NAT=${PFX}nat
new_ns "$NS_NAT"

cat >"$T/metadata.json" <<EOF
{"instance-id": "i-0123456789abcdef0", "mac": "$PRIMARY_MAC",
 "enis": {
  "$PRIMARY_MAC": {"device-number": "0", "network-card": "0", "interface-id": "eni-0aaaaaaaaaaaaaaa0",
    "subnet-ipv4-cidr-block": "10.0.0.0/24", "vpc-ipv4-cidr-blocks": "10.0.0.0/16\n100.64.0.0/16",
    "local-ipv4s": "10.0.0.10\n10.0.0.11", "public-ipv4s": "198.51.100.7",
    "ipv4-associations/198.51.100.7": "10.0.0.10"},
  "$SECONDARY_MAC": {"device-number": "1", "network-card": "0", "interface-id": "eni-0bbbbbbbbbbbbbbb1",
    "subnet-ipv4-cidr-block": "10.0.1.0/24", "vpc-ipv4-cidr-blocks": "10.0.0.0/16\n100.64.0.0/16",
    "local-ipv4s": "10.0.1.10"}
 }}
EOF
imds_create "$T/metadata.json"
control() { imds_control "$1"; }

# probe ARGS...: natd-imds-probe in the NAT instance; its lines in OUT, the
# service's log lines of the run in LOG.
probe() {
    local from rc=0
    from=$(($(wc -l <"$T/imds.log" 2>/dev/null || echo 0) + 1))
    OUT=$(ip netns exec "$NS_NAT" timeout 60 "$PROBE" "http://$IMDS_IP" "$@" 2>"$T/probe.err") || rc=$?
    ((rc == 0 || rc == 1)) || fail "natd-imds-probe exited $rc: $(cat "$T/probe.err")"
    PROBE_RC=$rc
    LOG=$(tail -n +"$from" "$T/imds.log" 2>/dev/null || true)
}
# q EXPR [LINE]: a Python expression over the JSON line d (the last round's
# by default).
q() {
    "$PY" -c 'import json, sys; d = json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$1" "${2:-$(tail -n 1 <<<"$OUT")}"
}
count() { grep -c -- "$1" <<<"$LOG" || true; }

# --- discovery ----------------------------------------------------------------
probe
((PROBE_RC == 0)) || fail "discovery failed: $OUT"
[[ $(q 'd["instance_id"]') == i-0123456789abcdef0 ]] || fail "instance id: $OUT"
[[ $(q 'd["primary_mac"]') == "$PRIMARY_MAC" ]] || fail "primary MAC: $OUT"
[[ $(q '[(e["mac"], e["device_number"], e["interface_id"], e["subnet"]) for e in d["enis"]]') == \
    "[('$PRIMARY_MAC', 0, 'eni-0aaaaaaaaaaaaaaa0', '10.0.0.0/24'), ('$SECONDARY_MAC', 1, 'eni-0bbbbbbbbbbbbbbb1', '10.0.1.0/24')]" ]] ||
    fail "ENIs: $OUT"
[[ $(q 'd["enis"][0]["vpc_cidrs"], d["enis"][0]["local_ipv4s"], d["enis"][0]["public_ipv4s"], d["enis"][1]["public_ipv4s"]') == \
    "(['10.0.0.0/16', '100.64.0.0/16'], ['10.0.0.10', '10.0.0.11'], ['198.51.100.7'], [])" ]] ||
    fail "addresses: $OUT"
[[ $(q 'd["enis"][0]["associations"], d["enis"][1]["associations"]') == "({'198.51.100.7': '10.0.0.10'}, {})" ]] ||
    fail "ipv4-associations: $OUT"
[[ $(q 'd["problems"] + [p for e in d["enis"] for p in e["problems"]]') == "[]" ]] ||
    fail "problems where there are none (a 404 for public-ipv4s is no problem): $OUT"
gets=$(count '^GET ')
[[ $(q 'd["tokens_fetched"]') == 1 && $(count '^PUT /latest/api/token 200') == 1 ]] ||
    fail "expected one token:"$'\n'"$LOG"
((gets == 3 + 2 * 7 + 1)) ||
    fail "expected 18 GETs (3, 7 per ENI, 1 per public address), the service saw $gets:"$'\n'"$LOG"
(($(count ' token=1$') == gets && $(count ' 200 token=1$') == gets - 1)) ||
    fail "not every GET carried the token and got 200 (but the secondary's public-ipv4s, 404):"$'\n'"$LOG"
pass "discovery: i-0123456789abcdef0, 2 ENIs (device 0 and 1), VPC CIDRs, addresses, the public address's association; 1 token, $gets GETs all with it; $(q 'd["elapsed_ms"]') ms"

# --- token lifetime -------------------------------------------------------------
control '{"max_ttl": 2}'
probe --rounds 2 --interval-ms 3000
[[ $(q 'd["tokens_fetched"]') == 2 && $(count '^PUT /latest/api/token 200 ttl=2') == 2 ]] ||
    fail "a 2 s token was not renewed for the round 3 s later:"$'\n'"$LOG"
(($(count ' 401 ') == 0)) || fail "a request went out with an expired token:"$'\n'"$LOG"
pass "a 2 s token is renewed before it expires: 2 tokens over 2 rounds 3 s apart, no 401"

control '{}'
from=$(($(wc -l <"$T/imds.log") + 1))
ip netns exec "$NS_NAT" timeout 60 "$PROBE" "http://$IMDS_IP" --rounds 2 --interval-ms 2000 \
    >"$T/revoke.out" 2>"$T/probe.err" &
revoke_pid=$!
round_one_done() { [[ -s $T/revoke.out ]]; }
wait_for() {
    local _
    for _ in $(seq 200); do "$@" && return 0; sleep 0.05; done
    return 1
}
wait_for round_one_done || fail "round 1 of the revocation run did not end: $(cat "$T/probe.err")"
control "{\"revoke_before\": $(date +%s.%N)}"
wait "$revoke_pid" || fail "the revocation run failed: $(cat "$T/revoke.out" "$T/probe.err")"
OUT=$(cat "$T/revoke.out")
LOG=$(tail -n +"$from" "$T/imds.log")
[[ $(q 'd["round"], d["instance_id"], len(d["enis"]), d["tokens_fetched"]') == "(2, 'i-0123456789abcdef0', 2, 2)" ]] ||
    fail "after the token was revoked: $OUT"$'\n'"$LOG"
(($(count ' 401 ') >= 1)) || fail "the revoked token was never refused: the test did not revoke it:"$'\n'"$LOG"
pass "a token revoked mid-run: $(count ' 401 ') requests refused with 401, a fresh token fetched, round 2 complete"

# --- the transient device-number 0 ------------------------------------------------
control "{\"device_number_zero\": [\"$SECONDARY_MAC\", \"$PRIMARY_MAC\"]}"
probe
[[ $(q '[e["device_number"] for e in d["enis"]]') == "[0, None]" ]] ||
    fail "device-number 0: expected the primary's trusted, the secondary's not: $OUT"
[[ $(q 'd["enis"][1]["problems"]') == *"not known yet"* ]] || fail "the transient 0 is not explained: $OUT"
pass "device-number 0: trusted for the primary MAC, 'not known yet' for $SECONDARY_MAC"

# --- failures -----------------------------------------------------------------------
control '{"fail": {"/latest/meta-data/instance-id": [500, 500]}}'
probe
[[ $(q 'd["instance_id"]') == i-0123456789abcdef0 ]] || fail "500 twice was not retried to success: $OUT"
(($(count '^GET /latest/meta-data/instance-id 500') == 2 && $(count '^GET /latest/meta-data/instance-id 200') == 1)) ||
    fail "expected 500, 500, 200 for instance-id:"$'\n'"$LOG"
pass "500 twice on instance-id: retried with backoff, found"

control '{"token_status": 403}'
probe --attempts 4
[[ $PROBE_RC == 1 && $(q 'd["problems"]') == *"HTTP 403"* ]] || fail "a 403 token answer: $OUT"
(($(count '^PUT ') == 1)) || fail "a 403 (IMDS turned off) was retried:"$'\n'"$LOG"
pass "403 on the token (IMDS turned off): reported, not retried"
control '{}'

started=$(date +%s%N)
OUT=$(ip netns exec "$NS_NAT" timeout 60 "$PROBE" "http://$IMDS_IP:81" --attempts 3 2>&1) || true
took_ms=$((($(date +%s%N) - started) / 1000000))
[[ $(q 'd["problems"]' "$OUT") == *"after 3 attempts"* ]] || fail "nothing listening: $OUT"
((took_ms < 10000)) || fail "nothing listening: the probe took $took_ms ms"
pass "nothing listening: every request fails after 3 attempts, in $took_ms ms"

# --- a stalled service, a responsive loop -----------------------------------------------
control '{"slow_ms": 3000, "slow_paths": ["/latest/meta-data/instance-id"], "fail": {}}'
probe --timeout-ms 1000 --attempts 2
# Every attempt stalls: the item is lost, the rest found; the loop ran on.
[[ $(q 'len(d["enis"])') == 2 ]] || fail "the stall on instance-id lost the ENIs: $OUT"
[[ $(q 'd["problems"]') == *"instance-id"*"after 2 attempts"* ]] || fail "the stalled item is not reported: $OUT"
lateness=$(q 'd["max_timer_lateness_ms"]')
((lateness <= 50)) || fail "a 10 ms timer ran $lateness ms late while IMDS stalled: the loop waited"
pass "IMDS stalled 3 s on one item: it times out (2 attempts), the ENIs are found, a 10 ms timer at most $lateness ms late"

control '{"slow_ms": 1500, "slow_paths": ["/latest/meta-data/mac"], "fail": {}}'
probe --timeout-ms 2500
[[ $(q 'd["primary_mac"]') == "$PRIMARY_MAC" ]] || fail "a slow (1.5 s) answer within the timeout was lost: $OUT"
lateness=$(q 'd["max_timer_lateness_ms"]')
((lateness <= 50)) || fail "a 10 ms timer ran $lateness ms late during a slow answer"
pass "a 1.5 s answer: waited for on the loop, a 10 ms timer at most $lateness ms late"

pass "IMDS client: $CHECKS_PASSED checks passed"
