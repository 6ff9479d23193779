#!/usr/bin/env bash
# natd's EC2 API client (lib/ec2-client.hpp, through natd-ec2-probe) against
# fake-ec2.py, an EC2 endpoint of the project's own that recomputes every
# request's Signature Version 4 and refuses what does not match, with the
# region and the instance role's credentials from fake-imds.py:
#   - a signed DescribeRouteTables is accepted; credentials and region come
#     from IMDS once for five requests; the scope names region and service;
#   - ReplaceRoute and AssignPrivateIpAddresses change the fake's state and
#     run its hook, as they would move the lab's routes;
#   - 500 then RequestLimitExceeded: retried with backoff, then done;
#     UnauthorizedOperation: reported with its code and message at once,
#     not retried;
#   - the credentials rotated (the old key answered with ExpiredToken): new
#     ones from IMDS, the request succeeds;
#   - credentials for another region: AuthFailure, said so; no instance
#     role: the IMDS 404, said so; nothing listening: every attempt fails,
#     in bounded time.
# Usage: ec2-client.sh PATH-TO-natd PATH-TO-natd-ec2-probe   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

lib_init integration.ec2-client "$1"
PROBE=${2:?usage: $0 PATH-TO-natd PATH-TO-natd-ec2-probe}
[[ -x $PROBE ]] || fail "natd-ec2-probe '$PROBE' is not executable"

NS_NAT=${PFX}nat
NS_EC2=${PFX}ec2
new_ns "$NS_NAT"
new_ns "$NS_EC2"
ip link add name api0 netns "$NS_NAT" type veth peer name eth0 netns "$NS_EC2"
ip -n "$NS_NAT" addr add 10.99.0.1/24 dev api0
ip -n "$NS_NAT" link set api0 up
ip -n "$NS_EC2" addr add 10.99.0.2/24 dev eth0
ip -n "$NS_EC2" link set eth0 up
EC2=http://10.99.0.2:8080

ROLE=natd-nat-role
credentials() { # AKID EXPIRATION: the IMDS body for the role
    printf '{"Code": "Success", "LastUpdated": "2026-12-03T10:00:00Z", "Type": "AWS-HMAC", "AccessKeyId": "%s", "SecretAccessKey": "secret-of-%s/+=", "Token": "token-of-%s", "Expiration": "%s"}' \
        "$1" "$1" "$1" "$2"
}
LATER=$(date -u -d '+6 hours' +%Y-%m-%dT%H:%M:%SZ)
json_string() { "$PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
cat >"$T/metadata.json" <<EOF
{"instance-id": "i-0123456789abcdef0", "mac": "0a:00:00:00:00:05", "enis": {},
 "items": {"placement/region": "eu-west-1",
           "iam/security-credentials/": "$ROLE",
           "iam/security-credentials/$ROLE": $(json_string "$(credentials ASIAOLD "$LATER")")}}
EOF
imds_create "$T/metadata.json"

cat >"$T/ec2-state.json" <<'EOF'
{"route_tables": {"rtb-0a1b2c3d": {"0.0.0.0/0": "eni-0aaaaaaaaaaaaaaa1"}},
 "enis": {"eni-0aaaaaaaaaaaaaaa1": ["10.0.0.20"], "eni-0bbbbbbbbbbbbbbb2": []}}
EOF
cat >"$T/ec2-keys.json" <<'EOF'
{"ASIAOLD": {"secret": "secret-of-ASIAOLD/+=", "token": "token-of-ASIAOLD"},
 "ASIANEW": {"secret": "secret-of-ASIANEW/+=", "token": "token-of-ASIANEW"}}
EOF
cat >"$T/hook" <<EOF
#!/bin/sh
echo "\$*" >>"$T/hook.log"
EOF
chmod +x "$T/hook"
ec2_control() { printf '%s\n' "$1" >"$T/ec2-control.json"; }
ec2_control '{}'
: >"$T/ec2.log"
ip netns exec "$NS_EC2" "$PY" "$INTEG_DIR/fake-ec2.py" --state "$T/ec2-state.json" \
    --credentials "$T/ec2-keys.json" --region eu-west-1 --control "$T/ec2-control.json" \
    --log "$T/ec2.log" --ready "$T/ec2.ready" --address 10.99.0.2 --port 8080 \
    --hook "$T/hook" >"$T/ec2.out" 2>&1 &
for _ in $(seq 100); do [[ -s $T/ec2.ready ]] && break; sleep 0.05; done
[[ -s $T/ec2.ready ]] || fail "fake-ec2.py did not start: $(cat "$T/ec2.out")"

# probe ARGS...: natd-ec2-probe in the NAT instance; its lines in OUT, the
# last one's fields through field NAME.
probe() {
    PROBE_RC=0
    OUT=$(ip netns exec "$NS_NAT" "$PROBE" http://169.254.169.254 "$@" 2>"$T/probe.err") || PROBE_RC=$?
}
field() { tail -n 1 <<<"$OUT" | "$PY" -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(json.dumps(v) if not isinstance(v, str) else v)' "$1"; }
ec2_lines() { grep -c "^$1 " "$T/ec2.log" || true; }

# 1. signed, accepted; credentials once for five requests.
probe DescribeRouteTables RouteTableId.1=rtb-0a1b2c3d --endpoint "$EC2" --repeat 5
((PROBE_RC == 0)) || fail "DescribeRouteTables: probe exited $PROBE_RC: $OUT $(cat "$T/probe.err")"
[[ $(grep -c '"ok": *true' <<<"$OUT") == 5 ]] || fail "DescribeRouteTables x5: not all succeeded: $OUT"
[[ $(field body) == *'<routeTableId>rtb-0a1b2c3d</routeTableId>'* ]] || fail "DescribeRouteTables: body $(field body)"
[[ $(field credentials_fetched) == 1 && $(field region) == eu-west-1 && $(field role) == "$ROLE" ]] ||
    fail "credentials fetched $(field credentials_fetched) times, region $(field region), role $(field role)"
[[ $(ec2_lines 'DescribeRouteTables 200') == 5 ]] || fail "fake EC2 log: $(cat "$T/ec2.log")"
creds_gets=$(grep -c "GET /latest/meta-data/iam/security-credentials/$ROLE 200" "$T/imds.log" || true)
((creds_gets == 1)) || fail "IMDS was asked for the role's credentials $creds_gets times for 5 requests"
pass "5 signed DescribeRouteTables accepted by the fake's own SigV4 check; region and role credentials from IMDS once ($(field ms) ms for the last)"

# 2. the lab follows the API.
probe ReplaceRoute RouteTableId=rtb-0a1b2c3d DestinationCidrBlock=0.0.0.0/0 \
    NetworkInterfaceId=eni-0bbbbbbbbbbbbbbb2 --endpoint "$EC2"
((PROBE_RC == 0)) || fail "ReplaceRoute: $OUT"
probe AssignPrivateIpAddresses NetworkInterfaceId=eni-0bbbbbbbbbbbbbbb2 PrivateIpAddress.1=10.0.0.20 \
    AllowReassignment=true --endpoint "$EC2"
((PROBE_RC == 0)) || fail "AssignPrivateIpAddresses: $OUT"
state=$("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["route_tables"]["rtb-0a1b2c3d"]["0.0.0.0/0"], s["enis"]["eni-0bbbbbbbbbbbbbbb2"], s["enis"]["eni-0aaaaaaaaaaaaaaa1"])' "$T/ec2-state.json")
[[ $state == "eni-0bbbbbbbbbbbbbbb2 ['10.0.0.20'] []" ]] || fail "the fake's state after the takeover: $state"
if ! grep -q '^ReplaceRoute rtb-0a1b2c3d 0.0.0.0/0 eni-0bbbbbbbbbbbbbbb2$' "$T/hook.log" ||
    ! grep -q '^AssignPrivateIpAddresses eni-0bbbbbbbbbbbbbbb2 10.0.0.20 eni-0aaaaaaaaaaaaaaa1$' "$T/hook.log"; then
    fail "the hook was not run for both: $(cat "$T/hook.log")"
fi
pass "ReplaceRoute and AssignPrivateIpAddresses (reassigned from the other ENI) applied to the lab: $state"

# 3. retried: a 500, then throttling; not retried: UnauthorizedOperation.
: >"$T/ec2.log"
ec2_control '{"fail": {"ReplaceRoute": [500, "RequestLimitExceeded"]}}'
probe ReplaceRoute RouteTableId=rtb-0a1b2c3d DestinationCidrBlock=0.0.0.0/0 \
    NetworkInterfaceId=eni-0aaaaaaaaaaaaaaa1 --endpoint "$EC2"
((PROBE_RC == 0)) || fail "ReplaceRoute after a 500 and throttling: $OUT"
[[ $(tr '\n' ' ' <"$T/ec2.log") == "ReplaceRoute 500 InternalError ReplaceRoute 503 RequestLimitExceeded ReplaceRoute 200 - " ]] ||
    fail "expected 500, 503, 200: $(cat "$T/ec2.log")"
pass "500, then RequestLimitExceeded: retried with backoff, done on the third attempt ($(field ms) ms)"
: >"$T/ec2.log"
ec2_control '{"fail": {"ReplaceRoute": ["UnauthorizedOperation"]}}'
probe ReplaceRoute RouteTableId=rtb-0a1b2c3d DestinationCidrBlock=0.0.0.0/0 \
    NetworkInterfaceId=eni-0aaaaaaaaaaaaaaa1 --endpoint "$EC2"
((PROBE_RC == 1)) || fail "UnauthorizedOperation: the probe exited $PROBE_RC: $OUT"
[[ $(field error) == "EC2 ReplaceRoute: UnauthorizedOperation: injected (HTTP 400, request fake-"*")" ]] ||
    fail "UnauthorizedOperation: error '$(field error)'"
[[ $(ec2_lines ReplaceRoute) == 1 ]] || fail "UnauthorizedOperation was retried: $(cat "$T/ec2.log")"
pass "UnauthorizedOperation: one attempt, status says: $(field error)"

# 4. rotated credentials: between a probe's two requests the old key
# expires and IMDS hands out a new one.
: >"$T/ec2.log"
ip netns exec "$NS_NAT" "$PROBE" http://169.254.169.254 DescribeRouteTables RouteTableId.1=rtb-0a1b2c3d \
    --endpoint "$EC2" --repeat 2 --interval-ms 1500 >"$T/rotate.out" 2>&1 &
rotate_pid=$!
for _ in $(seq 100); do grep -q '^DescribeRouteTables 200' "$T/ec2.log" && break; sleep 0.05; done
grep -q '^DescribeRouteTables 200' "$T/ec2.log" || fail "the rotation run's first request: $(cat "$T/rotate.out")"
ec2_control '{"expired_keys": ["ASIAOLD"]}'
imds_control "{\"items\": {\"iam/security-credentials/$ROLE\": $(json_string "$(credentials ASIANEW "$LATER")")}}"
wait "$rotate_pid" || fail "rotation: the probe failed: $(cat "$T/rotate.out")"
OUT=$(<"$T/rotate.out")
[[ $(tr '\n' ' ' <"$T/ec2.log") == "DescribeRouteTables 200 - DescribeRouteTables 400 ExpiredToken DescribeRouteTables 200 - " ]] ||
    fail "rotation: expected 200, ExpiredToken, 200: $(cat "$T/ec2.log")"
[[ $(field credentials_fetched) == 2 ]] || fail "rotation: credentials fetched $(field credentials_fetched) times"
pass "credentials rotated: the old key's ExpiredToken answered with new credentials from IMDS, request done"
ec2_control '{}'
imds_control '{}'

# 5. what cannot work says why.
imds_control '{"items": {"placement/region": "us-east-1"}}'
probe DescribeRouteTables RouteTableId.1=rtb-0a1b2c3d --endpoint "$EC2"
[[ $PROBE_RC == 1 && $(field error) == *'AuthFailure: signed for region us-east-1, not eu-west-1'* ]] ||
    fail "another region: $OUT"
pass "signed for another region: $(field error)"
imds_control '{"items": {"iam/security-credentials/": null}}'
probe DescribeRouteTables RouteTableId.1=rtb-0a1b2c3d --endpoint "$EC2"
[[ $PROBE_RC == 1 && $(field error) == "EC2 API credentials: IMDS GET /latest/meta-data/iam/security-credentials/"*404* ]] ||
    fail "no instance role: $OUT"
pass "no instance role: $(field error)"
imds_control '{}'
t0=$(date +%s%N)
probe DescribeRouteTables --endpoint http://10.99.0.2:8081 --attempts 3 --timeout-ms 500
t1=$(date +%s%N)
[[ $PROBE_RC == 1 && $(field error) == 'EC2 DescribeRouteTables: '*'(after 3 attempts)' ]] ||
    fail "nothing listening: $OUT"
(((t1 - t0) / 1000000 < 10000)) || fail "nothing listening: took $(((t1 - t0) / 1000000)) ms"
pass "nothing listening: $(field error), in $(((t1 - t0) / 1000000)) ms"
