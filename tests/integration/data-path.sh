#!/usr/bin/env bash
# "ready" means the kernel would forward NAT traffic. With natd in the
# simulated VPC (no networkd, natd on a private system bus):
#   - net.ipv4.conf.default.forwarding=0 before the private ENI is attached:
#     natd turns on the new ENI's own forwarding, ready, NAT works;
#   - what natd does not own but a packet needs, undone by someone else:
#     the public ENI's default route deleted, its address flushed, the link
#     taken down and up, and the AL2023 loop hazard (a default route via the
#     private ENI, metric 513, left alone once the public one goes). Each
#     time NAT traffic really breaks, natd-ctl status exits 1 with state
#     degraded and a warning naming the cause, natd counts no repair and
#     touches none of it; once it is put back natd is ready again within a
#     second (from the sd_notify stamps) and the NAT works.
# Usage: data-path.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.data-path "$@"
drift_vpc

# The simulated internet's server sits on the public ENI's own subnet: a
# host beyond the gateway needs the default route, as the internet does.
FAR_IP=198.51.100.80
ip -n "$NS_INET" addr add "$FAR_IP/32" dev lo

nat() {
    ip netns exec "$NS_NAT" "$@"
}
# nat_broken WHEN: no private host reaches the internet beyond the gateway.
nat_broken() {
    local n rc out
    for n in "${HOST_NETS[@]}"; do
        rc=0
        out=$(ip netns exec "${PFX}h$n" curl -sS --connect-timeout 1 --max-time 2 "http://$FAR_IP/" 2>&1) || rc=$?
        ((rc != 0)) || fail "$1: 10.0.$n.10 reached the internet ('$out'): the fault did not break NAT, so it tests nothing"
    done
}
# far_reachable WHEN: a private host reaches the host beyond the gateway.
far_reachable() {
    local out
    out=$(ip netns exec "${PFX}h2" curl -sS --max-time 3 "http://$FAR_IP/" 2>&1) || true
    [[ $out == "$PUB_IP" ]] || fail "$1: 10.0.2.10 could not reach http://$FAR_IP/ as $PUB_IP: $out"
}
# degraded_by CAUSE WHAT: natd-ctl status degraded with a warning naming
# CAUSE, no repair counted, NAT broken.
degraded_by() {
    wait_until 5 state_is degraded "$1" ||
        fail "$2: natd-ctl status is not degraded with a warning containing '$1' within 5 s: $WAIT_OUT"
    ctl_status 1
    [[ $(sj_get repairs) == "$REPAIRS0" ]] ||
        fail "$2: natd counted repairs ($REPAIRS0 -> $(sj_get repairs)); it owns none of this"
    [[ $(sj_get status) == Degraded:*"$1"* ]] ||
        fail "$2: the status text does not name '$1': $(sj_get status)"
    nat_broken "$2"
    pass "$2: NAT broken; natd-ctl status exit 1, degraded: $(sj_get warnings)"
}
# ready_again WHAT T0_MS: ready without warnings, the STATUS=Ready within a
# second of T0_MS, the NAT works.
ready_again() {
    local t1
    wait_until 5 state_is ready - || fail "$1 put back: natd is not ready without warnings within 5 s: $WAIT_OUT"
    t1=$(notify_since "$2" 'STATUS=Ready')
    [[ -n $t1 ]] || fail "$1 put back: no STATUS=Ready after it"
    timing "$1 put back -> STATUS=Ready" $((t1 - $2))
    ((t1 - $2 < 1000)) ||
        fail "$1 put back: STATUS=Ready came $((t1 - $2)) ms later, more than a second"
    check_egress " ($1 put back)"
    far_reachable "$1 put back"
    pass "$1 put back: ready again in $((t1 - $2)) ms, NAT works"
}

# --- a late ENI while conf.default.forwarding is 0 ------------------------------
natd_start
wait_until 10 natd_on_bus_api || fail "natd did not own io.natd1 on the bus within 10s: $WAIT_OUT"
nat sysctl -q -w net.ipv4.ip_forward=1
nat sysctl -q -w net.ipv4.conf.default.forwarding=0
eni_plug
eni_name card
natd_wait_ready
v=$(nat sysctl -n "net.ipv4.conf.$PRIV_DEV.forwarding")
[[ $v == 1 ]] || fail "natd is ready, but net.ipv4.conf.$PRIV_DEV.forwarding is $v (the ENI came while conf.default.forwarding was 0)"
check_egress " (ENI attached while conf.default.forwarding was 0)"
far_reachable "ENI attached while conf.default.forwarding was 0"
pass "ENI attached while conf.default.forwarding=0: natd turned on net.ipv4.conf.$PRIV_DEV.forwarding, NAT works"
ctl_status 0
REPAIRS0=$(sj_get repairs)

# --- the public default route deleted -------------------------------------------
routes0=$(nat ip -j route show table main | $PY -m json.tool --sort-keys)
nat ip route del default via "$INET_IP" dev "$PUB_DEV"
degraded_by "no default route via $PUB_DEV" "public default route deleted"
now_ms t0
nat ip route add default via "$INET_IP" dev "$PUB_DEV"
ready_again "the default route" "$t0"

# --- the public address flushed ---------------------------------------------------
nat ip addr flush dev "$PUB_DEV"
degraded_by "$PUB_DEV has no IPv4 address" "public address flushed"
[[ -z $(nat ip -j -4 addr show dev "$PUB_DEV" | $PY -c 'import json,sys; print("".join(a["local"] for l in json.load(sys.stdin) for a in l.get("addr_info", [])))') ]] ||
    fail "natd put an address on $PUB_DEV: it must not touch what it does not own"
nat ip addr add "$PUB_IP/24" dev "$PUB_DEV"
degraded_by "no default route via $PUB_DEV" "address back, default route still gone"
now_ms t0
nat ip route add default via "$INET_IP" dev "$PUB_DEV"
ready_again "the public address and default route" "$t0"

# --- the public link down and up --------------------------------------------------
nat ip link set "$PUB_DEV" down
degraded_by "$PUB_DEV is down" "public link down"
nat ip link set "$PUB_DEV" up
# The kernel dropped the link's routes with it: the default route is gone.
degraded_by "no default route via $PUB_DEV" "public link up again, default route gone"
now_ms t0
nat ip route add default via "$INET_IP" dev "$PUB_DEV"
ready_again "the public link and its default route" "$t0"

# --- the AL2023 loop hazard ------------------------------------------------------
# amazon-ec2-net-utils >= 2.5 puts a default route via every ENI into the main
# table, the private one's with metric 513. It is harmless while the public
# one (metric 512) is there.
nat ip route add default via "$PRIV_GW" dev "$PRIV_DEV" metric 513
wait_until 5 state_is ready - || fail "a metric-513 default route via $PRIV_DEV behind the public one: natd not ready: $WAIT_OUT"
check_egress " (with a metric-513 default route via $PRIV_DEV behind the public one)"
nat ip route del default via "$INET_IP" dev "$PUB_DEV"
degraded_by "loop back into the VPC" "public default route gone, the private ENI's default route left"
now_ms t0
nat ip route add default via "$INET_IP" dev "$PUB_DEV"
ready_again "the public default route (loop hazard)" "$t0"
nat ip route del default via "$PRIV_GW" dev "$PRIV_DEV" metric 513

# natd touched none of the routes it does not own.
routes1=$(nat ip -j route show table main | $PY -m json.tool --sort-keys)
[[ $routes1 == "$routes0" ]] ||
    fail "the main table differs from before the faults:"$'\n'"$(diff <(echo "$routes0") <(echo "$routes1"))"
pass "the main routing table is as before the faults; repairs still $REPAIRS0"
check_nat_state
