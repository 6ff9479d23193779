#!/usr/bin/env bash
# [HighAvailability]: an active/standby pair of natd on the real engines
# (keepalived 2.2, VRRPv3 unicast, 200 ms adverts; conntrackd FTFW) in the
# simulated HA VPC (ha-lib.sh), with a fake EC2 API that checks every
# request's SigV4 signature and moves the lab's routes, and a fake IMDS per
# instance:
#   - nat1 starts first and becomes active — floating address 10.0.0.20
#     on its public ENI, the route table's 0.0.0.0/0 on its private ENI,
#     confirmed by EC2 and IMDS — and ready; nat2 a ready standby. The
#     private host egresses as the Elastic IP. GET /health: 200 on both,
#     ?role=active only on nat1;
#   - a TCP stream the server pushes (only a replicated NAT binding can
#     carry it) runs through nat1; nat2's conntrackd holds its binding;
#   - nat1 is lost (links down, every process killed): nat2 takes over;
#     the time from the loss until a new connection egresses again through
#     nat2, as the Elastic IP, is measured and printed; the stream goes on
#     without a reset (its longest gap printed); nat2 says active, EC2's
#     route table and GET /health agree;
#   - failback: nat1 comes back (Preempt=no): it stays a standby; reloaded
#     with Preempt=yes (keepalived reloaded, as systemctl reload does), its
#     higher priority takes the role back, and the stream survives that too.
# Usage: ha-pair.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/ha-lib.sh
source "$(dirname "$0")/ha-lib.sh"

ha_init integration.ha-pair "$@"

ha_lab_create
ha_pair_start
pass "nat1 active and ready, nat2 a ready standby: $(ha_field 1 high_availability.status) | $(ha_field 2 high_availability.status)"
first=$(ha_field 1 high_availability.last_transition.duration_usec)
timing "nat1: keepalived's master notify -> takeover confirmed by EC2 and IMDS" $((first / 1000))

[[ $(ha_egress) == "$HA_EIP" ]] || fail "the private host does not egress as the Elastic IP: '$(ha_egress)'"
[[ $(ha_route_owner) == "$ENI_PRIV1" ]] || fail "EC2's route table routes to $(ha_route_owner), not nat1's $ENI_PRIV1"
holds() { ip -n "${PFX}nat$1" -j addr show dev ens5 | grep -q "\"$HA_FLOATING\""; }
holds 1 || fail "nat1 does not hold $HA_FLOATING"
! holds 2 || fail "nat2 holds $HA_FLOATING too"
if grep -q "AuthFailure\|SignatureDoesNotMatch" "$T/ec2.log"; then
    fail "the fake EC2 refused a signature: $(cat "$T/ec2.log")"
fi
pass "egress as $HA_EIP; EC2 routes $HA_RTB to $ENI_PRIV1; only nat1 holds $HA_FLOATING; every EC2 call signed correctly ($(wc -l <"$T/ec2.log") calls)"

[[ $(ha_health 1 "") == 200 && $(ha_health 1 "?role=active") == 200 && $(ha_health 2 "") == 200 &&
    $(ha_health 2 "?role=active") == 503 && $(ha_health 2 "?role=standby") == 200 ]] ||
    fail "GET /health: nat1 $(ha_health 1 "") / active $(ha_health 1 "?role=active"), nat2 $(ha_health 2 "") / active $(ha_health 2 "?role=active")"
pass "GET /health 200 on both; ?role=active 200 on nat1, 503 on nat2"

ha_stream_start
entries=$(ip netns exec "$NS_NAT2" conntrackd -C "$T/root2/run/natd/ha/conntrackd.conf" -e 2>/dev/null | grep -c "dport=5000" || true)
((entries >= 1)) || fail "nat2's conntrackd has no replicated entry for the stream"
synced() { (($(ha_field 2 high_availability.sync.external_entries) >= 1)); }
wait_for 10 synced || fail "nat2's status shows no replicated connection: $(ha_field 2 high_availability.sync)"
pass "stream running through nat1 ($(ha_stream_lines) lines pushed); nat2's conntrackd holds its binding ($entries entries); nat2's status: sync $(ha_field 2 high_availability.sync)"

t_loss=0 t_back=0
now_ms t_loss
ha_kill_instance 1
egress_back() { [[ $(ha_egress) == "$HA_EIP" ]]; }
wait_for 20 egress_back ||
    fail "no egress within 20 s of losing nat1: nat2 $(ha_field 2 high_availability.status)"$'\n'"$(tail -n 30 "$T/natd2.log")"
now_ms t_back
timing "nat1 lost -> a new connection egresses through nat2 as $HA_EIP" $((t_back - t_loss))
wait_for 10 ha_is 2 active ready || fail "nat2 is not the ready active NAT: $WAITED"
second=$(ha_field 2 high_availability.last_transition.duration_usec)
timing "nat2: keepalived's master notify -> takeover confirmed by EC2 and IMDS" $((second / 1000))
[[ $(ha_route_owner) == "$ENI_PRIV2" ]] || fail "EC2's route table routes to $(ha_route_owner), not nat2's $ENI_PRIV2"
[[ $(ha_health 2 "?role=active") == 200 ]] || fail "GET /health?role=active on nat2 after the takeover"
metrics=$(ip netns exec "$NS_NAT2" curl -s --max-time 2 http://127.0.0.1:8008/metrics)
for line in 'natd_ha_role{role="active"} 1' 'natd_ha_floating_address_held 1' 'natd_ha_transitions_total 2'; do
    grep -qxF "$line" <<<"$metrics" || fail "nat2's metrics lack '$line':"$'\n'"$(grep natd_ha_ <<<"$metrics")"
done
pass "nat2 active and ready: EC2 routes $HA_RTB to $ENI_PRIV2; GET /health?role=active 200; metrics: $(grep -E '^natd_ha_(transitions_total|last_transition_seconds)' <<<"$metrics" | tr '\n' ' ')"
ha_stream_check "failover (nat1 lost)"

# Failback. nat1 comes back as a new boot would: links up, natd, engines.
ha_revive 1 "$(ha_config 10.0.1.12 150)"
wait_for 10 ha_is 1 standby ready || fail "nat1 back: not a ready standby: $WAITED"$'\n'"$(tail -n 25 "$T/keepalived1.log")"
# Preempt=no: nat2 keeps the role, though nat1's priority is higher. Three
# master-down intervals (0.7 s each) show it would have happened by now.
sleep 2
ha_is 2 active ready || fail "Preempt=no: nat2 lost the role to nat1 coming back"
ha_is 1 standby ready || fail "Preempt=no: nat1 did not stay a standby"
[[ $(ha_route_owner) == "$ENI_PRIV2" ]] || fail "Preempt=no: the route table moved to $(ha_route_owner)"
pass "nat1 back with Preempt=no: a ready standby; nat2 keeps the role and the routes"

ha_stream_start
printf '%s\n' "$(ha_config 10.0.1.12 150 Preempt=yes)" >"$T/root1/etc/natd/natd.conf"
ha_ctl 1 reload
((CTL_RC == 0)) || fail "natd-ctl reload on nat1: $CTL_OUT"
preempting() { ! grep -q '^    nopreempt' "$T/root1/run/natd/ha/keepalived.conf"; }
wait_for 5 preempting || fail "natd did not rewrite keepalived.conf without nopreempt"
kill -HUP "$(cat "$T/keepalived1.pid")"
wait_for 15 ha_is 1 active ready || fail "Preempt=yes: nat1 did not take the role back: $WAITED"
wait_for 10 ha_is 2 standby ready || fail "Preempt=yes: nat2 is not a standby: $WAITED"
[[ $(ha_route_owner) == "$ENI_PRIV1" ]] || fail "Preempt=yes: the route table routes to $(ha_route_owner)"
pass "Preempt=yes: nat1 (priority 150) took the role back, nat2 is a standby, EC2 routes to $ENI_PRIV1"
ha_stream_check "failback (Preempt=yes)"
