#!/usr/bin/env bash
# [Interfaces] Private=none: a single-ENI NAT instance, the way fck-nat and
# alterNAT run, in a simulated single-ENI VPC (no networkd, natd on a private
# bus):
#
#   internet ns          VPC router + IGW ns                    NAT instance ns
#   igw0 203.0.113.1 --- r-inet 203.0.113.254
#   echo-ip HTTP :80     r-pub 10.0.0.1 ------------------------ ens5 10.0.0.10 (the only ENI,
#                        r-h2  10.0.2.1 --- h2 10.0.2.10          device-number-0.0)
#                        r-h3  10.0.3.1 --- h3 10.0.3.10
#   The private subnets' route table (ip rule from 10.0.2.0/24, 10.0.3.0/24):
#   0.0.0.0/0 -> the NAT's ENI; the public subnet's (main): the internet.
#
# SourceCIDRs=10.0.2.0/24. Checks:
#   - natd is ready with one ENI; no return route, no drop-in, its files are
#     exactly the sysctl.d file (with send_redirects off) and its record;
#     status names the private interface "none";
#   - h2 reaches the internet as the NAT's address 10.0.0.10 (masquerade
#     counts it), and no ICMP redirect left the NAT;
#   - h3 (10.0.3.10, routed to the NAT but outside SourceCIDRs) cannot relay
#     through it: its connection fails and drop-hairpin counts it;
#   - the internet cannot relay through it either: the router sends the
#     internet's traffic for 10.0.2.0/24 to the NAT (a hostile route), the
#     connection to h2's listener fails and drop-hairpin counts it;
#   - net.ipv4.conf.all.send_redirects turned back on is repaired.
# Usage: single-eni.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.single-eni "$@"

PUB_IP=10.0.0.10
RTR_PUB_IP=10.0.0.1
RTR_INET_IP=203.0.113.254
HOST_NETS=(2)  # check_egress: the hosts inside SourceCIDRs=
PRIV_DEV=$PUB_DEV  # nft_counter: traffic comes in on the one ENI
OUTSIDE_HOST=10.0.3.10

# --- the single-ENI VPC ---------------------------------------------------
NS_INET=${PFX}inet NS_NAT=${PFX}nat NS_RTR=${PFX}rtr
for ns in "$NS_INET" "$NS_NAT" "$NS_RTR" "${PFX}h2" "${PFX}h3"; do new_ns "$ns"; done
ip link add name igw0 netns "$NS_INET" type veth peer name r-inet netns "$NS_RTR"
ip -n "$NS_INET" addr add "$INET_IP/24" dev igw0
ip -n "$NS_INET" link set igw0 up
ip -n "$NS_INET" route add default via "$RTR_INET_IP"
ip -n "$NS_RTR" addr add "$RTR_INET_IP/24" dev r-inet
ip -n "$NS_RTR" link set r-inet up

ip link add name "$PUB_DEV" netns "$NS_NAT" type veth peer name r-pub netns "$NS_RTR"
ip -n "$NS_NAT" addr add "$PUB_IP/24" dev "$PUB_DEV"
ip -n "$NS_NAT" link set "$PUB_DEV" up
ip -n "$NS_NAT" link property add dev "$PUB_DEV" altname device-number-0.0
ip -n "$NS_NAT" route add default via "$RTR_PUB_IP"
ip netns exec "$NS_NAT" sysctl -q -w net.ipv4.ip_forward=0
ip -n "$NS_RTR" addr add "$RTR_PUB_IP/24" dev r-pub
ip -n "$NS_RTR" link set r-pub up

# The router forwards between route tables of different subnets, so packets
# leave it on other interfaces than a reverse lookup would pick.
ip netns exec "$NS_RTR" sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0
for n in 2 3; do
    private_host_add "$n"
    ip -n "$NS_RTR" rule add from "10.0.$n.0/24" lookup 100 pref 100
done
for dev in r-inet r-pub r-h2 r-h3; do
    ip netns exec "$NS_RTR" sysctl -q -w "net.ipv4.conf.$dev.rp_filter=0"
done
# The private subnets' route table: the VPC locally, the rest to the NAT.
ip -n "$NS_RTR" route add 10.0.0.0/24 dev r-pub table 100
ip -n "$NS_RTR" route add 10.0.2.0/24 dev r-h2 table 100
ip -n "$NS_RTR" route add 10.0.3.0/24 dev r-h3 table 100
ip -n "$NS_RTR" route add default via "$PUB_IP" dev r-pub table 100
start_server "$NS_INET" internet
start_server "${PFX}h2" h2
info "single-ENI VPC built: internet $INET_IP, NAT ENI $PUB_DEV $PUB_IP, private hosts 10.0.2.10 (in SourceCIDRs=) and $OUTSIDE_HOST (not)"

write_config etc/natd/natd.conf <<EOF
# natd integration test ($TEST_NAME)
[Interfaces]
Private=none
WaitTimeoutSec=60s

[NAT]
SourceCIDRs=10.0.2.0/24
EOF
boot_prepare
dbus_start

# --- ready with one ENI -----------------------------------------------------
natd_start
natd_wait_ready
timing "natd started -> READY=1 (single ENI)" $((READY_MS - NATD_START_MS))
ctl_status 0
out=$($SJ expect state='"ready"' private.selector='"none"' private.name=null public.name="\"$PUB_DEV\"" \
    nftables.verified=true forwarding=true <<<"$CTL_OUT" 2>&1) || fail "status: $out"$'\n'"$CTL_OUT"
[[ $(sj_get status) == *"NAT on $PUB_DEV (single ENI), verified"* ]] ||
    fail "status does not say single ENI: $(sj_get status)"
pass "ready with one ENI: $(sj_get status)"

routes=$(ip -n "$NS_NAT" -j route show table all proto 213)
[[ $routes == "[]" || $routes == "[ ]" ]] || fail "natd installed routes in single-ENI mode: $routes"
files=$(cd "$ROOT" && find . -path ./etc/natd -prune -o -path ./run -prune -o -type f -print | sed 's|^\./||' | sort | paste -sd' ')
[[ $files == "etc/sysctl.d/90-natd.conf var/lib/natd/files var/lib/natd/lock" ]] ||
    fail "natd's files in single-ENI mode are '$files', expected only its sysctl.d file and its record"
[[ -z $(ls -A "$ROOT/etc/systemd/network" 2>/dev/null) ]] ||
    fail "natd wrote under etc/systemd/network in single-ENI mode: $(ls -AR "$ROOT/etc/systemd/network")"
sysctl_text=$(grep -v '^#' "$ROOT/etc/sysctl.d/90-natd.conf")
for line in "net.ipv4.ip_forward = 1" "net.ipv4.conf.all.send_redirects = 0" \
    "net.ipv4.conf.default.send_redirects = 0"; do
    [[ $sysctl_text == *"$line"* ]] || fail "/etc/sysctl.d/90-natd.conf lacks '$line':"$'\n'"$sysctl_text"
done
for conf in all "$PUB_DEV"; do
    v=$(ip netns exec "$NS_NAT" cat "/proc/sys/net/ipv4/conf/$conf/send_redirects")
    [[ $v == 0 ]] || fail "net.ipv4.conf.$conf.send_redirects is $v in the NAT instance, expected 0"
done
pass "no return route, no drop-in; files: $files; send_redirects off (all, $PUB_DEV)"

# --- egress from a source CIDR, hairpin through the one ENI ------------------
icmp_redirects() {
    # shellcheck disable=SC2016 # awk's own variables
    ip netns exec "$NS_NAT" awk '/^Icmp:/ { if (!n++) { for (i = 1; i <= NF; i++) col[$i] = i } else print $col["OutRedirects"] }' /proc/net/snmp
}
redirects_before=$(icmp_redirects)
check_egress " (single ENI)"
redirects_after=$(icmp_redirects)
((redirects_after == redirects_before)) ||
    fail "the NAT sent $((redirects_after - redirects_before)) ICMP redirects while relaying: private hosts would be told to bypass it"
pass "no ICMP redirect left the NAT while it relayed (OutRedirects $redirects_after)"

# --- nobody else relays through it --------------------------------------------
# relay_refused WHAT NS URL: a connection from NS to URL through the NAT fails
# and natd's drop-hairpin counter (iifname ens5 oifname ens5 drop) counts it.
relay_refused() {
    local what=$1 ns=$2 url=$3 before after rc=0 out
    before=$(nft_counter drop)
    out=$(ip netns exec "$ns" curl -sS --connect-timeout 2 --max-time 3 "$url" 2>&1) || rc=$?
    ((rc != 0)) || fail "$what: $url through the NAT answered '$out'; the NAT must not relay it"
    after=$(nft_counter drop)
    ((after > before)) ||
        fail "$what: the connection failed (curl exit $rc: $out) but drop-hairpin did not count it ($before -> $after)"
    pass "$what: $url fails (curl exit $rc), drop-hairpin $before -> $after"
}
relay_refused "a host outside SourceCIDRs= ($OUTSIDE_HOST)" "${PFX}h3" "http://$INET_IP/"

# The listener is there: reachable from inside the VPC.
out=$(ip netns exec "$NS_RTR" curl -sS --max-time 5 http://10.0.2.10/ 2>&1) ||
    fail "setup: the listener on 10.0.2.10:80 does not answer from inside the VPC: $out"
# A hostile route: the internet's traffic for the private subnet goes to the
# NAT (only what arrives from the internet: the NAT's own output is routed
# on to h2, so without natd's rules the connection would succeed).
ip -n "$NS_RTR" route add default via "$PUB_IP" dev r-pub table 101
ip -n "$NS_RTR" rule add iif r-inet to 10.0.2.0/24 lookup 101 pref 90
relay_refused "the internet (a route to 10.0.2.0/24 via the NAT)" "$NS_INET" "http://10.0.2.10/"
ip -n "$NS_RTR" rule del pref 90
check_egress " (single ENI, after the relay attempts)"

# --- send_redirects is natd's to keep --------------------------------------------
ctl_status 0
repairs_before=$(sj_get repairs)
ip netns exec "$NS_NAT" sysctl -q -w net.ipv4.conf.all.send_redirects=1
redirects_off() {
    [[ $(ip netns exec "$NS_NAT" cat /proc/sys/net/ipv4/conf/all/send_redirects) == 0 ]]
}
# No event announces it: natd reads it every 5 s.
wait_until 10 redirects_off || fail "net.ipv4.conf.all.send_redirects=1 was not repaired within 10 s"
wait_until 5 state_is ready - || fail "not ready after the send_redirects repair: $WAIT_OUT"
ctl_status 0
repairs_after=$(sj_get repairs)
((repairs_after == repairs_before + 1)) ||
    fail "send_redirects repaired, but repairs went $repairs_before -> $repairs_after (expected +1)"
pass "net.ipv4.conf.all.send_redirects=1 repaired (repairs $repairs_before -> $repairs_after)"

natd_stop
pass "single-ENI mode: $CHECKS_PASSED checks passed"
