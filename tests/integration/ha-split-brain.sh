#!/usr/bin/env bash
# [HighAvailability] split brain in the simulated HA VPC (ha-lib.sh): VRRP
# between the two NATs is cut while both live (nat2 drops VRRP both ways;
# conntrackd's sync and everything else still pass):
#   - nat2 hears no advertisement, becomes master and takes over (the
#     route table moves to it); nat1, still master to keepalived, finds the
#     route table pointing at nat2 within its 10 s recheck, stands by
#     (removes the floating address) and says split brain: degraded, GET
#     /health 503; nat2 is the one ready active NAT and traffic egresses
#     through it, a stream the server pushes survives;
#   - VRRP restored: nat1 (its priority lowered while it stood by) becomes
#     BACKUP, a ready standby; nat2 stays active; the route table stays.
# Usage: ha-split-brain.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/ha-lib.sh
source "$(dirname "$0")/ha-lib.sh"

ha_init integration.ha-split-brain "$@"

ha_lab_create
ha_pair_start
pass "nat1 active, nat2 a ready standby"
ha_stream_start

t0=0 t1=0
now_ms t0
ip netns exec "$NS_NAT2" nft -f - <<'EOF'
table ip partition {
    chain in { type filter hook input priority -10; ip protocol vrrp drop; }
    chain out { type filter hook output priority -10; ip protocol vrrp drop; }
}
EOF
wait_for 10 ha_is 2 active ready || fail "VRRP cut: nat2 did not take over: $WAITED"
[[ $(ha_route_owner) == "$ENI_PRIV2" ]] || fail "VRRP cut: EC2 routes to $(ha_route_owner), not nat2"
yielded() {
    local s
    s=$(ha_field 1 high_availability.status)
    [[ $(ha_field 1 state) == degraded && $(ha_field 1 high_availability.role) == standby &&
        $s == "split brain: keepalived says master, but $HA_RTB routes 0.0.0.0/0 to $ENI_PRIV2"* ]] ||
        { echo "nat1: $(ha_field 1 state): $s"; return 1; }
}
wait_for 15 yielded || fail "VRRP cut: nat1 did not stand by: $WAITED"
now_ms t1
timing "VRRP cut -> nat1 stands by (its 10 s recheck of the route tables)" $((t1 - t0))
[[ $(ha_field 1 high_availability.vrrp) == master ]] || fail "nat1's keepalived should still say master"
if ip -n "$NS_NAT1" -j addr show dev ens5 | grep -q "\"$HA_FLOATING\""; then
    fail "nat1 stood by but still holds $HA_FLOATING"
fi
[[ $(ha_health 1 "") == 503 && $(ha_health 1 "?role=active") == 503 && $(ha_health 2 "?role=active") == 200 ]] ||
    fail "split brain: GET /health nat1 $(ha_health 1 "") / active $(ha_health 1 "?role=active"), nat2 active $(ha_health 2 "?role=active")"
[[ $(ha_egress) == "$HA_EIP" ]] || fail "split brain: no egress as $HA_EIP"
pass "split brain: nat2 active, nat1 (keepalived: master) stands by and says: $(ha_field 1 high_availability.status); GET /health 503 on nat1"
ha_stream_check "split brain (VRRP cut)"

ip netns exec "$NS_NAT2" nft delete table ip partition
wait_for 10 ha_is 1 standby ready || fail "VRRP restored: nat1 is not a ready standby: $WAITED"
[[ $(ha_field 1 high_availability.vrrp) == backup ]] || fail "VRRP restored: nat1's keepalived says $(ha_field 1 high_availability.vrrp)"
ha_is 2 active ready || fail "VRRP restored: nat2 is no longer the ready active NAT"
[[ $(ha_route_owner) == "$ENI_PRIV2" ]] || fail "VRRP restored: EC2 routes to $(ha_route_owner)"
pass "VRRP restored: nat1 a ready standby (keepalived BACKUP), nat2 stays active, EC2 routes to $ENI_PRIV2"
