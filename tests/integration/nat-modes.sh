#!/usr/bin/env bash
# [NAT] ClampMSS=, PortAllocation= and PortRange= in the simulated VPC (no
# networkd, natd on a private bus). The private side has a VPC's MTU (9001:
# host 10.0.2.10, the VPC router, the private ENI), the public ENI the
# internet's 1500. A SYN capture (AF_PACKET, syn-capture.py) on the
# internet side of the public ENI (igw0) and on the private ENI reads the
# MSS option of each SYN a private host sends to the internet:
#   - ClampMSS=auto (the default): it leaves the private host with 8961 and
#     reaches the internet with 1460 (the route's MTU), clamp-mss counts it;
#   - ClampMSS=1300 (natd-ctl reload): 1300;
#   - ClampMSS=no: 8961 reaches the internet (the control: the capture
#     would see an unclamped SYN), no clamp-mss rule;
#   - PortAllocation= is in every masquerade rule (fully-random by default,
#     random after a reload), and with PortRange=20000-20009 every
#     connection leaves from a port in the range.
#   - FlowOffload=auto on this kernel, which has no flowtables: ready,
#     status says the flowtable is unavailable (and the probe left no
#     table); FlowOffload=yes: not ready, status says why.
# NAT works throughout (check_egress).
# Usage: nat-modes.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.nat-modes "$@"
CAPTURE_PY=$INTEG_DIR/syn-capture.py
drift_vpc
drift_ready
ip -n "${PFX}h2" link set eth0 mtu 9001
ip -n "$NS_RTR" link set r-h2 mtu 9001
ip -n "$NS_RTR" link set r-nat mtu 9001
ip -n "$NS_NAT" link set "$PRIV_DEV" mtu 9001
wait_until 5 state_is ready - || fail "not ready after the MTU change: $WAIT_OUT"
check_egress " (private side MTU 9001)"

# capture NAME NS IFACE COUNT: a SYN capture for COUNT SYNs to port 80,
# started in the background; returns once it listens.
capture() {
    local name=$1 ns=$2 dev=$3 count=$4
    rm -f "$T/$name.ready" "$T/$name.out"
    ip netns exec "$ns" "$PY" "$CAPTURE_PY" "$dev" 80 "$count" 10 --ready "$T/$name.ready" \
        >"$T/$name.out" 2>"$T/$name.err" &
    eval "CAPTURE_PID_$name=$!"
    wait_until 5 test -s "$T/$name.ready" || fail "the SYN capture on $dev did not start: $(<"$T/$name.err")"
}
# captured NAME FIELD: wait for the capture to end (in this shell: it is
# this shell's child); sets CAPTURED to FIELD (1: source port, 2: MSS) of
# its lines, space-separated.
captured() {
    local pid_var="CAPTURE_PID_$1"
    wait "${!pid_var}" || fail "the SYN capture $1 saw too few SYNs: $(<"$T/$1.err")"
    CAPTURED=$(awk -v f="$2" '{print $f}' "$T/$1.out" | paste -sd' ')
}
connect_from_h2() {
    ip netns exec "${PFX}h2" curl -sS --max-time 5 -o /dev/null "http://$INET_IP/" ||
        fail "10.0.2.10 could not reach http://$INET_IP/"
}
# syn_mss WHAT: the MSS of one SYN from 10.0.2.10 as it leaves the host
# (on the private ENI) and as it reaches the internet; sets SENT and SEEN.
syn_mss() {
    capture priv "$NS_NAT" "$PRIV_DEV" 1
    capture inet "$NS_INET" igw0 1
    connect_from_h2
    captured priv 2
    SENT=$CAPTURED
    captured inet 2
    SEEN=$CAPTURED
    info "$1: SYN MSS $SENT on $PRIV_DEV, $SEEN on the internet"
    [[ $SENT == 8961 ]] || fail "$1: the private host's SYN carries MSS $SENT, expected 8961 (MTU 9001): the test tests nothing"
}
reload_with() {
    printf '[NAT]\n%s\n' "$@" >>"$ROOT/etc/natd/natd.conf"
    natd_ctl_expect 0 "reload with $*" reload
    wait_until 5 state_is ready - || fail "not ready after reload with $*: $WAIT_OUT"
}
role_packets() {
    $SJ packets "$1" <<<"$CTL_OUT"
}
postrouting() {
    ip netns exec "$NS_NAT" nft list chain ip natd postrouting
}

# --- ClampMSS=auto --------------------------------------------------------------------
ctl_status 0
clamps0=$(role_packets clamp-mss)
syn_mss "ClampMSS=auto"
[[ $SEEN == 1460 ]] || fail "ClampMSS=auto: the SYN reached the internet with MSS $SEEN, expected 1460 (MTU 1500)"
ctl_status 0
clamps1=$(role_packets clamp-mss)
((clamps1 > clamps0)) || fail "ClampMSS=auto: the clamp-mss counter did not grow ($clamps0 -> $clamps1)"
pass "ClampMSS=auto: MSS 8961 -> 1460 on the way out, clamp-mss counted $clamps0 -> $clamps1"

# --- ClampMSS=1300 ----------------------------------------------------------------------
reload_with ClampMSS=1300
syn_mss "ClampMSS=1300"
[[ $SEEN == 1300 ]] || fail "ClampMSS=1300: the SYN reached the internet with MSS $SEEN"
pass "ClampMSS=1300: MSS 8961 -> 1300"

# --- ClampMSS=no: the control -----------------------------------------------------------
reload_with ClampMSS=no
syn_mss "ClampMSS=no"
[[ $SEEN == 8961 ]] || fail "ClampMSS=no: the SYN reached the internet with MSS $SEEN, expected it unclamped (8961)"
! ip netns exec "$NS_NAT" nft list chain ip natd forward | grep -q 'natd: clamp-mss' ||
    fail "ClampMSS=no: the forward chain still has a clamp-mss rule"
pass "ClampMSS=no: no clamp-mss rule, MSS 8961 reaches the internet unchanged"
reload_with ClampMSS=auto

# --- PortAllocation= and PortRange= -----------------------------------------------------
[[ $(postrouting) == *"masquerade fully-random"* ]] ||
    fail "PortAllocation= default: the masquerade rules are not fully-random:"$'\n'"$(postrouting)"
pass "PortAllocation=fully-random (the default) is in natd's masquerade rules"
reload_with PortAllocation=random PortRange=20000-20009
[[ $(postrouting) == *"meta l4proto tcp counter"*"masquerade to :20000-20009 random"* ]] ||
    fail "PortRange=: no TCP masquerade rule with the range:"$'\n'"$(postrouting)"
capture ports "$NS_INET" igw0 5
for _ in 1 2 3 4 5; do connect_from_h2; done
captured ports 1
ports=$CAPTURED
for p in $ports; do
    ((p >= 20000 && p <= 20009)) || fail "PortRange=20000-20009: a connection left from port $p (all: $ports)"
done
pass "PortAllocation=random PortRange=20000-20009: 5 connections left from ports $ports"
# --- FlowOffload= (this kernel has no nftables flowtables) --------------------------------
ctl_status 0
[[ $(sj_get flow_offload) == "unavailable: this kernel has no nftables flowtables"* ]] ||
    fail "FlowOffload=auto on a kernel without flowtables: status says '$(sj_get flow_offload)'"
! ip netns exec "$NS_NAT" nft list tables | grep -q natd-probe || fail "natd's flowtable probe left its table"
pass "FlowOffload=auto: ready, status says: $(sj_get flow_offload)"
printf '[NAT]\nFlowOffload=yes\n' >>"$ROOT/etc/natd/natd.conf"
natd_ctl_expect 0 "reload with FlowOffload=yes" reload
flow_required() {
    ctl_status >/dev/null
    [[ $(sj_get state) != ready && $(sj_get waiting_for) == *"FlowOffload=yes, but this kernel has no nftables flowtables"* ]] ||
        { echo "state $(sj_get state), waiting for $(sj_get waiting_for)"; return 1; }
}
wait_until 5 flow_required || fail "FlowOffload=yes without flowtables: natd does not say it cannot: $WAIT_OUT"
ctl_status 1
pass "FlowOffload=yes without flowtables: not ready, status says why: $(sj_get waiting_for)"
reload_with FlowOffload=auto
check_egress " (after the NAT modes)"
