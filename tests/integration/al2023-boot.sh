#!/usr/bin/env bash
# Amazon Linux 2023 as it really boots, in the simulated VPC: addresses,
# gateways and routes from the VPC's DHCP (dnsmasq, DHCP only, in the
# namespace of each subnet's router), systemd-networkd configuring every ENI
# from one 80-ec2.network (Driver=veth here) until "amazon-ec2-net-utils"
# writes the per-ENI 70-<if>.network (a symlink to it) with eni.conf
# (MACAddress=, RouteMetric=512+N, UseGateway=true, a per-ENI table 10000+N
# with Gateway=_dhcp4) and reloads networkd, then adds the altname. natd,
# started before the private ENI exists, must
#   - become ready with NAT working, the return routes networkd's;
#   - keep the DHCP default route off the private ENI ([DHCPv4]
#     UseGateway=no in its drop-in; before it, net-utils' file does give the
#     private ENI a metric-513 default): the main table's only default route is
#     the public ENI's, while net-utils' table 10001 still has its default
#     via the private gateway (Gateway=_dhcp4);
#   - have asked networkd for at most one reload, and never created
#     anything in 80-ec2.network.d (inotify, from before natd starts);
# and the loop hazard: the public ENI's default route goes (its lease lost):
# natd-ctl status degraded naming it, no forwarded packet takes a default
# route back into the VPC, and once DHCP gives the route back (networkctl
# reconfigure ens5) natd is ready and NAT works again.
# The boot itself is al2023-lib.sh's al2023_first_boot (al2023-reboot.sh
# reboots after it).
# Usage: al2023-boot.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/al2023-lib.sh
source "$(dirname "$0")/al2023-lib.sh"

al2023_init integration.al2023-boot "$@"
al2023_first_boot

# --- the loop hazard: the public default route goes ---------------------------------
ctl_status 0
repairs0=$(sj_get repairs)
ip -n "$NS_NAT" route del default via "$INET_IP" dev "$PUB_DEV"
wait_until 5 state_is degraded "no default route via $PUB_DEV" ||
    fail "with the public default route gone natd is not degraded naming it: $WAIT_OUT"
d=$(default_routes main)
[[ -z $d ]] || fail "with the public default route gone the main table still has default routes: $d (a loop into the VPC)"
fwd=$(ip netns exec "$NS_NAT" ip -4 route get 198.51.100.80 from 10.0.2.10 iif "$PRIV_DEV" 2>&1 || true)
[[ $fwd != *"dev $PRIV_DEV"* ]] || fail "forwarded internet traffic would go back into the VPC: $fwd"
pass "public default route gone: degraded, no default route left, a forwarded packet finds no route ($fwd)"
now_ms t0
out=$(networkctl_in_ns reconfigure "$PUB_DEV" 2>&1) || fail "networkctl reconfigure $PUB_DEV failed: $out"
wait_until 20 state_is ready - || fail "natd not ready after the public lease came back: $WAIT_OUT"
now_ms t1
timing "public lease back (networkctl reconfigure) -> ready" $((t1 - t0))
check_egress " (public lease back)"
ctl_status 0
[[ $(sj_get repairs) == "$repairs0" ]] || fail "natd counted repairs for what it does not own ($repairs0 -> $(sj_get repairs))"
pass "public lease back: ready, NAT works, repairs still $repairs0"
