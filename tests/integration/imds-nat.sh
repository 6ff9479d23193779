#!/usr/bin/env bash
# natd configured by the instance metadata service ([Discovery], IMDSv2)
# against fake-imds.py in the simulated VPC:
#   1. a Debian-like instance, no natd.conf and no altnames: natd finds both
#      ENIs by MAC through IMDS's device-number, routes the VPC's CIDR block
#      back through the private ENI, private hosts reach the internet; status
#      says where each fact came from (and the Elastic IP it egresses from);
#      every GET carried a token, none was refused;
#   2. a token granted for 2 s, expired before a reload's rediscovery: a new
#      token, still no 401;
#   3. IMDS stalled for 10 s while natd rediscovers: natd still repairs its
#      deleted table at once (its loop never waits on the network);
#   4. a fresh ENI whose device-number reads 0: natd does not trust it, waits,
#      and comes up once IMDS says 1;
#   5. IMDS unreachable, altnames and Subnets= configured: natd is ready from
#      its configuration, status says IMDS is unavailable and why;
#   6. altnames and IMDS together: the altnames resolve, IMDS agrees (no
#      notes).
# Usage: imds-nat.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.imds-nat "$@"

INSTANCE_ID="i-0123456789abcdef0"
EIP=198.51.100.7
vpc_create none
eni_plug
PUB_MAC=$(ip -n "$NS_NAT" -j link show dev "$PUB_DEV" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["address"])')
cat >"$T/metadata.json" <<EOF
{"instance-id": "$INSTANCE_ID", "mac": "$PUB_MAC",
 "enis": {
  "$PUB_MAC": {"device-number": "0", "network-card": "0", "interface-id": "eni-0aaaaaaaaaaaaaaa0",
    "subnet-ipv4-cidr-block": "203.0.113.0/24", "vpc-ipv4-cidr-blocks": "10.0.0.0/16",
    "local-ipv4s": "$PUB_IP", "public-ipv4s": "$EIP", "ipv4-associations/$EIP": "$PUB_IP"},
  "$PRIV_MAC": {"device-number": "1", "network-card": "0", "interface-id": "eni-0bbbbbbbbbbbbbbb1",
    "subnet-ipv4-cidr-block": "10.0.1.0/24", "vpc-ipv4-cidr-blocks": "10.0.0.0/16",
    "local-ipv4s": "$PRIV_IP"}
 }}
EOF
imds_create "$T/metadata.json"
boot_prepare
dbus_start
[[ ! -e $ROOT/etc/natd/natd.conf ]] || fail "the scratch root has a natd.conf"

# expect PATH=JSON...: the last ctl_status holds these values.
expect() {
    local out
    out=$($SJ expect "$@" <<<"$CTL_OUT" 2>&1) || fail "status: $out"$'\n'"$CTL_OUT"
}
# facts: "fact=value (source)" per line.
facts() {
    "$PY" -c 'import json, sys
for f in json.load(sys.stdin)["facts"]: print("%s=%s (%s)" % (f["fact"], f["value"], f["source"]))' <<<"$CTL_OUT"
}
imds_log_count() { grep -c -- "$1" "$T/imds.log" || true; }
# count_above FILE PATTERN N: FILE has more than N lines matching PATTERN.
count_above() { (($(grep -c -- "$2" "$1" || true) > $3)); }
# imds_is STATE: natd-ctl status says discovery.imds is STATE.
imds_is() {
    natd_ctl --root "$ROOT" status --json
    [[ $(sj_get discovery.imds) == "$1" ]] || { echo "discovery.imds is $(sj_get discovery.imds)"; return 1; }
}

# --- 1. no configuration, no altnames --------------------------------------------
imds_control '{"max_ttl": 2}'  # for check 2: every token lasts 2 s
natd_start
natd_wait_ready
timing "natd started -> READY=1 (no natd.conf, ENIs from IMDS)" $((READY_MS - NATD_START_MS))
ctl_status 0
expect state='"ready"' discovery.imds='"ok"' discovery.instance_id="\"$INSTANCE_ID\"" \
    public.name="\"$PUB_DEV\"" private.name="\"$PRIV_DEV\"" discovery.notes='[]'
[[ $(sj_get private.source) == "IMDS device-number 1: $PRIV_MAC (eni-0bbbbbbbbbbbbbbb1)" ]] ||
    fail "private.source: $(sj_get private.source)"
[[ $(sj_get public.source) == "IMDS device-number 0: $PUB_MAC (eni-0aaaaaaaaaaaaaaa0)" ]] ||
    fail "public.source: $(sj_get public.source)"
facts=$(facts)
for want in "return routes=10.0.0.0/16 (IMDS vpc-ipv4-cidr-blocks of $PRIV_MAC (eni-0bbbbbbbbbbbbbbb1))" \
    "egress public IPv4=$EIP (IMDS ipv4-associations of $PUB_MAC (eni-0aaaaaaaaaaaaaaa0): $PUB_IP)"; do
    grep -qxF -- "$want" <<<"$facts" || fail "status facts lack '$want':"$'\n'"$facts"
done
route=$(ip -n "$NS_NAT" -j route show 10.0.0.0/16 proto 213)
[[ $("$PY" -c 'import json, sys; r = json.load(sys.stdin); print(len(r), r[0]["gateway"], r[0]["dev"])' <<<"$route") == "1 $PRIV_GW $PRIV_DEV" ]] ||
    fail "expected natd's route 10.0.0.0/16 via $PRIV_GW dev $PRIV_DEV: $route"
check_egress " (configured by IMDS)"
gets=$(imds_log_count '^GET ')
(($(imds_log_count '^PUT /latest/api/token 200') >= 1 && gets > 0)) || fail "no token or GETs:"$'\n'"$(cat "$T/imds.log")"
(($(imds_log_count ' 401 ') == 0 && $(imds_log_count ' token=0$') == 0)) ||
    fail "a GET went without a valid token:"$'\n'"$(cat "$T/imds.log")"
pass "no natd.conf, no altnames: ENIs by MAC from IMDS, route 10.0.0.0/16 via $PRIV_GW, egress works, Elastic IP $EIP in status; $gets GETs, all with a token"

# --- 2. the token expires before the next discovery ----------------------------------
puts=$(imds_log_count '^PUT /latest/api/token 200')
macs=$(imds_log_count '^GET /latest/meta-data/mac ')
sleep 2.5  # the token's 2 s run out (a deliberate wait for time to pass)
kill -HUP "$NATD_PID"
wait_until 10 count_above "$T/imds.log" '^GET /latest/meta-data/mac 200' "$macs" ||
    fail "natd did not ask IMDS again on SIGHUP:"$'\n'"$(cat "$T/imds.log")"
(($(imds_log_count '^PUT /latest/api/token 200') > puts)) || fail "no new token after the old one expired:"$'\n'"$(cat "$T/imds.log")"
(($(imds_log_count ' 401 ') == 0)) || fail "a request went out with an expired token:"$'\n'"$(cat "$T/imds.log")"
ctl_status 0
expect discovery.imds='"ok"' discovery.error=null
pass "a 2 s token expired before the reload: natd fetched a new one first, no 401"

# --- 3. a 10 s stall does not hold up repairs ------------------------------------------
imds_control '{"slow_ms": 10000}'
kill -HUP "$NATD_PID"
# The rediscovery is in flight once natd holds a connection to the service.
imds_connected() { [[ -n $(ip netns exec "$NS_NAT" ss -Htn state established dst 169.254.169.254) ]]; }
wait_until 5 imds_connected || fail "natd did not connect to IMDS after SIGHUP"
found0=$(grep -c 'Found table ip natd is missing; restored' "$T/natd.log" || true)
now_ms t0
ip netns exec "$NS_NAT" nft delete table ip natd
wait_until 5 count_above "$T/natd.log" 'Found table ip natd is missing; restored' "$found0" ||
    fail "natd did not restore its table within 5 s while IMDS stalled"
now_ms t1
repair_ms=$((t1 - t0))
timing "table deleted -> natd's 'restored' log line, IMDS stalled 10 s (50 ms polling)" "$repair_ms"
((repair_ms < 1000)) || fail "natd took $repair_ms ms to repair its table while IMDS stalled"
ctl_status 0
expect state='"ready"' nftables.verified=true
check_egress " (IMDS stalled)"
imds_control '{}'
pass "IMDS stalled 10 s during a rediscovery: natd restored its table in $repair_ms ms and stayed ready"

# --- 4. a fresh ENI's device-number reads 0 ------------------------------------------------
natd_stop
imds_control "{\"device_number_zero\": [\"$PRIV_MAC\"]}"
natd_start
wait_until 15 imds_is ok ||
    fail "natd did not hear from IMDS: $WAIT_OUT"
ctl_status 1
expect state='"waiting"'
waiting=$(sj_get waiting_for)
[[ $waiting == *"private interface (device-number-1): no interface has that altname, and IMDS lists no ENI with device-number 1 (yet)"* ]] ||
    fail "waiting_for does not say why: $waiting"
[[ $(sj_get discovery.notes) == *"device-number reads 0"* ]] || fail "status notes lack the untrusted 0: $(sj_get discovery.notes)"
pass "device-number 0 for the secondary ENI is not trusted: natd waits ($waiting)"
imds_control '{}'
now_ms t0
natd_wait_ready
timing "IMDS says device-number 1 -> READY=1 (retries at 1, 2, 4 s...)" $((READY_MS - t0))
ctl_status 0
[[ $(sj_get private.source) == "IMDS device-number 1: $PRIV_MAC"* ]] || fail "private.source: $(sj_get private.source)"
pass "natd asked again and came up once IMDS said device-number 1, $((READY_MS - t0)) ms later"

# --- 5. IMDS unreachable: configuration and altnames ------------------------------------------
natd_stop
ip -n "$NS_NAT" link property add dev "$PUB_DEV" altname device-number-0.0
ip -n "$NS_NAT" link property add dev "$PRIV_DEV" altname device-number-1.0
ip -n "$NS_NAT" link set imds0 down  # 169.254.169.254 goes by the default route, unanswered
write_config etc/natd/natd.conf <<EOF
# natd integration test ($TEST_NAME)
[Routes]
Subnets=$SUBNETS
EOF
natd_start
natd_wait_ready
timing "natd started -> READY=1 (IMDS unreachable)" $((READY_MS - NATD_START_MS))
wait_until 20 imds_is unavailable ||
    fail "status does not say IMDS is unavailable: $WAIT_OUT"
ctl_status 0
expect state='"ready"' private.source='"altname device-number-1.0"'
[[ -n $(sj_get discovery.error) ]] || fail "IMDS unavailable without a reason: $CTL_OUT"
[[ $(facts) == *"return routes=10.0.2.0/24 10.0.3.0/24 (Subnets=)"* || $(facts) == *"return routes=10.0.1.0/24 10.0.2.0/24 10.0.3.0/24 (Subnets=)"* ]] ||
    fail "facts: $(facts)"
check_egress " (IMDS unreachable)"
pass "IMDS unreachable: ready from natd.conf and the altnames; status: unavailable ($(sj_get discovery.error))"

# --- 6. altnames and IMDS agree ---------------------------------------------------------------
ip -n "$NS_NAT" link set imds0 up
ip -n "$NS_NAT" addr replace 169.254.0.1/16 dev imds0
kill -HUP "$NATD_PID"
wait_until 20 imds_is ok ||
    fail "natd did not reach IMDS again after SIGHUP: $WAIT_OUT"
ctl_status 0
expect state='"ready"' discovery.notes='[]' public.source='"altname device-number-0.0"' \
    private.source='"altname device-number-1.0"'
pass "altnames and IMDS together: altnames resolve, IMDS agrees (no notes), instance $(sj_get discovery.instance_id)"

natd_stop
pass "all checks"
