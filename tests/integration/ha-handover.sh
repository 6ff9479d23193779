#!/usr/bin/env bash
# [HighAvailability] planned handovers in the simulated HA VPC (ha-lib.sh),
# both directions, with one TCP stream the server pushes running across both:
#   - natd-ctl ha handover on the active nat1: nat2 takes over before nat1
#     lets go (nat1 keeps NATing until EC2 routes to nat2); natd-ctl returns
#     once nat1 is a standby; the time it took is printed;
#   - back to nat1 by a spot interruption notice on nat2 (IMDS
#     spot/instance-action), while the EC2 API fails (thirteen 500s and
#     RequestLimitExceeded on ReplaceRoute: two requests' worth of attempts): nat1's status says
#     replace-routes is failing and it is degraded, its retries succeed when
#     the API recovers, and the stream survives; nat2's status names the
#     notice.
# Usage: ha-handover.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/ha-lib.sh
source "$(dirname "$0")/ha-lib.sh"

ha_init integration.ha-handover "$@"

ha_lab_create
ha_pair_start
pass "nat1 active, nat2 a ready standby"

# 1. natd-ctl ha handover, nat1 -> nat2.
ha_stream_start
t0=0 t1=0
now_ms t0
ha_ctl 1 ha handover
now_ms t1
((CTL_RC == 0)) || fail "natd-ctl ha handover on nat1 exited $CTL_RC: $CTL_OUT"
[[ $CTL_OUT == "natd: handed over to 10.0.1.12"* ]] || fail "natd-ctl ha handover said: $CTL_OUT"
timing "natd-ctl ha handover nat1 -> nat2 (until nat1 is a standby)" $((t1 - t0))
wait_for 10 ha_is 2 active ready || fail "after the handover nat2 is not the ready active NAT: $WAITED"
wait_for 10 ha_is 1 standby ready || fail "after the handover nat1 is not a ready standby: $WAITED"
[[ $(ha_route_owner) == "$ENI_PRIV2" ]] || fail "after the handover EC2 routes to $(ha_route_owner)"
[[ $(ha_egress) == "$HA_EIP" ]] || fail "after the handover the private host does not egress as $HA_EIP"
pass "handed over: nat2 active and ready, nat1 a ready standby, EC2 routes to $ENI_PRIV2 ($CTL_OUT)"
lines=$(ha_stream_lines)
wait_for 10 ha_stream_lines_at_least $((lines + 25)) || fail "the stream stopped after the handover"
pass "the stream goes on through nat2 ($(ha_stream_lines) lines)"
ha_ctl 1 ha handover
if ((CTL_RC != 1)) || [[ $CTL_OUT != *"not the active NAT (standby)"* ]]; then
    fail "natd-ctl ha handover on the standby: exit $CTL_RC: $CTL_OUT"
fi
pass "natd-ctl ha handover on the standby refuses: $CTL_OUT"

# 2. A spot interruption notice on nat2 while the EC2 API fails; the same
# stream.
# Six attempts per request (ec2-client.hpp): thirteen failures (500s and
# throttling) fail the step twice before the API answers again.
printf '%s\n' '{"fail": {"ReplaceRoute": [500, "RequestLimitExceeded", 500, "RequestLimitExceeded", 500, 500, "RequestLimitExceeded", 500, 500, "RequestLimitExceeded", 500, 500, 500]}}' >"$T/ec2-control.json"
printf '%s\n' '{"items": {"spot/instance-action": "{\"action\": \"terminate\", \"time\": \"2026-12-03T18:00:00Z\"}"}}' \
    >"$T/imds2-control.json.new"
# Keep what the hook put there (the ENIs' local-ipv4s).
"$PY" -c 'import json,sys; c=json.load(open(sys.argv[1])); c.update(json.load(open(sys.argv[2]))); json.dump(c, open(sys.argv[1], "w"))' \
    "$T/imds2-control.json" "$T/imds2-control.json.new"
log_mark=$(wc -c <"$T/natd1.log")
failing() {
    local s
    s=$(ha_field 1 status)
    [[ $(ha_field 1 state) == degraded && $s == *"replace-routes failing"* ]] && return 0
    # The degraded spell can fall between two polls (a sanitized natd-ctl
    # is slow): natd logs each state it reports.
    [[ $(tail -c +$((log_mark + 1)) "$T/natd1.log") == *"replace-routes failing"* ]] && return 0
    echo "nat1: $s"
    return 1
}
wait_for 30 failing || fail "nat1 taking over with the EC2 API failing: status does not say so: $WAITED"
pass "EC2 failing: nat1 is degraded and says: $(ha_field 1 high_availability.status)"
wait_for 40 ha_is 1 active ready || fail "the EC2 API recovered: nat1 is not the ready active NAT: $WAITED"
wait_for 25 ha_is 2 standby ready || fail "nat2 is not a standby after the notice: $WAITED"
[[ $(ha_route_owner) == "$ENI_PRIV1" ]] || fail "EC2 routes to $(ha_route_owner), not nat1's $ENI_PRIV1"
replaced=$(grep -c '^ReplaceRoute 50[03]' "$T/ec2.log" || true)
((replaced == 13)) || fail "expected 13 failed ReplaceRoute calls, the fake EC2 answered $replaced"
notice=$(ha_field 2 high_availability.status)
[[ $notice == *"spot interruption notice"*terminate* ]] || fail "nat2's status does not name the notice: $notice"
pass "the EC2 API recovered: nat1 active (after $replaced failed ReplaceRoute calls), nat2 a standby saying: $notice"
ha_stream_check "one stream across both handovers (natd-ctl ha handover, then a spot notice with EC2 failing)"
