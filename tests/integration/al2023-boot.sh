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
#   - have asked networkd for at most one reload;
# and the loop hazard: the public ENI's default route goes (its lease lost):
# natd-ctl status degraded naming it, no forwarded packet takes a default
# route back into the VPC, and once DHCP gives the route back (networkctl
# reconfigure ens5) natd is ready and NAT works again.
# Usage: al2023-boot.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.al2023-boot "$@"
command -v dnsmasq >/dev/null || fail "dnsmasq is missing: run tests/install-deps.sh (package dnsmasq-base)"
vpc_create card
write_test_config
boot_prepare
boot_release_links "$PUB_DEV"
netdir=$ROOT/run/systemd/network
printf '%s\n' '# AL2023: /usr/lib/systemd/network/80-ec2.network (Driver=ena ixgbevf vif)' \
    '[Match]' 'Driver=veth' '[Network]' 'DHCP=ipv4' 'LinkLocalAddressing=no' \
    '[DHCPv4]' 'UseHostname=no' 'UseDNS=no' >"$netdir/80-ec2.network"

# dhcp_serve NS IFACE SUBNET-BASE MAC ADDRESS ROUTER: dnsmasq (DHCP only)
# giving MAC its ADDRESS in the /24 with ROUTER.
dhcp_serve() {
    local ns=$1 dev=$2 base=$3 mac=$4 addr=$5 router=$6
    ip netns exec "$ns" dnsmasq --keep-in-foreground --port=0 --no-resolv --no-hosts \
        --interface="$dev" --bind-interfaces --dhcp-range="$base,static,255.255.255.0" \
        --dhcp-host="$mac,$addr" --dhcp-option=option:router,"$router" \
        --dhcp-leasefile="$T/$dev.leases" --pid-file="$T/dnsmasq-$dev.pid" \
        --log-dhcp --log-facility="$T/dnsmasq-$dev.log" &
}
# net_utils IFNAME DEVICE-NUMBER SUBNET: what setup-policy-routes.sh writes
# for an ENI, then its networkctl reload.
net_utils() {
    local dev=$1 n=$2 subnet=$3 mac
    mac=$(ip -n "$NS_NAT" -j link show "$dev" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
    ln -s 80-ec2.network "$netdir/70-$dev.network"
    mkdir -p "$netdir/70-$dev.network.d"
    printf '%s\n' '[Match]' "MACAddress=$mac" '[Network]' 'DHCP=yes' '[DHCPv4]' \
        "RouteMetric=$((512 + n))" 'UseRoutes=true' 'UseGateway=true' \
        '[Route]' 'Gateway=_dhcp4' "Table=$((10000 + n))" \
        '[Route]' "Table=$((10000 + n))" "Destination=$subnet" >"$netdir/70-$dev.network.d/eni.conf"
    local out
    out=$(networkctl_in_ns reload 2>&1) || fail "net-utils' networkctl reload for $dev failed: $out"
}
# default_routes TABLE: "via GW dev DEV" per default route of TABLE.
default_routes() {
    ip -n "$NS_NAT" -4 -j route show table "$1" default | "$PY" -c '
import json, sys
print(" ".join("via %s dev %s" % (r.get("gateway"), r["dev"]) for r in json.load(sys.stdin)))'
}
# main_default_is_public: the main table's only default route is the public ENI's.
main_default_is_public() {
    local d
    d=$(default_routes main)
    [[ $d == "via $INET_IP dev $PUB_DEV" ]] || { echo "main table default routes: '$d'"; return 1; }
    echo "$d"
}

pub_mac=$(ip -n "$NS_NAT" -j link show "$PUB_DEV" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
dhcp_serve "$NS_INET" igw0 203.0.113.0 "$pub_mac" "$PUB_IP" "$INET_IP"
dbus_start
networkd_start
wait_until 20 main_default_is_public || fail "the public ENI got no DHCP default route: $WAIT_OUT"
net_utils "$PUB_DEV" 0 203.0.113.0/24
wait_until 20 main_default_is_public || fail "after net-utils' reload for $PUB_DEV: $WAIT_OUT"
pass "public ENI: DHCP from the IGW side, net-utils' 70-$PUB_DEV.network: $(default_routes main)"

natd_start
wait_until 10 natd_on_bus_api || fail "natd did not own io.natd1 on the bus within 10s: $WAIT_OUT"
eni_plug noaddr
dhcp_serve "$NS_RTR" r-nat 10.0.1.0 "$PRIV_MAC" "$PRIV_IP" "$PRIV_GW"
has_private_address() {
    ip -n "$NS_NAT" -4 -j addr show dev "$PRIV_DEV" | grep -q "\"$PRIV_IP\""
}
wait_until 20 has_private_address || fail "the private ENI got no DHCP address from 80-ec2.network: $WAIT_OUT"
net_utils "$PRIV_DEV" 1 10.0.1.0/24
# The hazard is real: without natd's drop-in net-utils' file gives the
# private ENI a main-table default route (metric 513) too.
private_default_too() {
    local d
    d=$(default_routes main)
    [[ $d == *"dev $PRIV_DEV"* ]] || { echo "main table default routes: '$d'"; return 1; }
    echo "$d"
}
wait_until 20 private_default_too || fail "net-utils' file gave $PRIV_DEV no default route: the test tests nothing: $WAIT_OUT"
info "before natd's drop-in the main table has: $WAIT_OUT"
eni_name card  # net-utils adds the altname after it configured the ENI
natd_wait_ready
wait_routes_as static "AL2023 boot"
pass "ready; the return routes are networkd's: $ROUTES_SEEN"
check_egress " (AL2023 boot)"
wait_until 10 main_default_is_public || fail "after natd's drop-in: $WAIT_OUT (the private ENI must carry no main-table default route)"
out=$WAIT_OUT
pass "main table: the only default route is $out (no DHCP default via $PRIV_DEV: UseGateway=no)"
t10001=$(default_routes 10001)
[[ $t10001 == "via $PRIV_GW dev $PRIV_DEV" ]] ||
    fail "net-utils' table 10001 lost its Gateway=_dhcp4 default route: '$t10001'"
pass "net-utils' table 10001 keeps its default $t10001"
check_networkd_calls "$T/natd.log" "AL2023 boot" "$(grep -c 'Asking systemd-networkd to reload' "$T/natd.log" || true)"
reloads=$(grep -c 'Asking systemd-networkd to reload' "$T/natd.log" || true)
((reloads <= 1)) || fail "natd asked systemd-networkd to reload $reloads times during the boot"
[[ -z $(find "$ROOT/etc/systemd/network" -path '*80-ec2.network.d*') ]] ||
    fail "natd wrote into 80-ec2.network.d: $(find "$ROOT/etc/systemd/network" -path '*80-ec2.network.d*')"
pass "natd asked networkd to reload $reloads time(s) and wrote nothing into 80-ec2.network.d"

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
