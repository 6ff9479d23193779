#!/usr/bin/env bash
# [NAT] Addresses= and PoolMode= in the simulated VPC (no networkd, natd on
# a private bus). The public ENI has three addresses (203.0.113.10-12, each
# an Elastic IP's on EC2); PortRange=20000-20009 leaves ten source ports per
# address, so exhaustion comes quickly. A private host opens 40 connections
# at once to one destination (a listener on the internet side that keeps
# them open and logs each peer; conntrack is flushed between the rounds):
#   - Addresses=203.0.113.10: 10 are established;
#   - all three, PoolMode=random: 30 (three times as many), from all three
#     addresses;
#   - PoolMode=persistent: one client always leaves from one address, so a
#     single host gets 10 again, and two hosts' connections each come from
#     one address;
#   - an address the ENI does not have (203.0.113.13): degraded naming it,
#     left out; once assigned: ready, in the pool, and HTTP from every
#     private host leaves from a pool address;
#   - Addresses= emptied: masquerade again (check_egress).
# Usage: snat-pool.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.snat-pool "$@"
command -v conntrack >/dev/null || fail "conntrack is missing: run tests/install-deps.sh (package conntrack)"
vpc_create card
for a in 203.0.113.11 203.0.113.12; do ip -n "$NS_NAT" addr add "$a/24" dev "$PUB_DEV"; done
write_test_config
printf '%s\n' '' '[NAT]' 'Addresses=203.0.113.10' 'PortRange=20000-20009' >>"$ROOT/etc/natd/natd.conf"
boot_prepare
dbus_start
drift_ready
PEERS=$T/peers.log
ip netns exec "$NS_INET" "$PY" "$INTEG_DIR/hold-server.py" "$INET_IP" 8080 "$PEERS" "$T/hold.pid" 300

reload_with() {
    printf '[NAT]\n%s\n' "$@" >>"$ROOT/etc/natd/natd.conf"
    natd_ctl_expect 0 "reload with $*" reload
    wait_until 5 state_is ready - || fail "not ready after reload with $*: $WAIT_OUT"
}
# round HOST [TIMEOUT]: 40 connections at once from 10.0.HOST.10, given
# TIMEOUT seconds (default 3; a SYN that finds its address's ports taken is
# dropped, and its retransmissions at 1, 3, 7 and 15 s choose again); sets
# OPENED and FROM (the source addresses the listener saw, with counts).
round() {
    ip netns exec "$NS_NAT" conntrack -F 2>/dev/null || true
    : >"$PEERS"
    OPENED=$(ip netns exec "${PFX}h$1" "$PY" "$INTEG_DIR/hold-clients.py" "$INET_IP" 8080 40 "${2:-3}")
    FROM=$(awk '{print $1}' "$PEERS" | sort | uniq -c | awk '{print $2 "x" $1}' | paste -sd' ')
}

round 2
[[ $OPENED == 10 ]] || fail "one address, ports 20000-20009: $OPENED of 40 connections established, expected 10 (from: $FROM)"
pass "Addresses=203.0.113.10, PortRange=20000-20009: 10 of 40 connections established (from $FROM)"

reload_with 'Addresses=203.0.113.11 203.0.113.12' PoolMode=random
# Random choices fill the three addresses unevenly at first: retransmitted
# SYNs choose again until every address's ten ports are taken.
round 2 16
[[ $OPENED == 30 ]] || fail "three addresses, PoolMode=random: $OPENED of 40 established, expected 30 (from: $FROM)"
[[ $FROM == "203.0.113.10x10 203.0.113.11x10 203.0.113.12x10" ]] ||
    fail "three addresses, PoolMode=random: the connections came from '$FROM'"
pass "three addresses, PoolMode=random: 30 of 40 established, three times as many, from $FROM"

reload_with PoolMode=persistent
round 2
from2=$FROM
[[ $OPENED == 10 && $from2 =~ ^203\.0\.113\.1[0-2]x10$ ]] ||
    fail "PoolMode=persistent: 10.0.2.10 got $OPENED connections from '$from2', expected 10 from one address"
round 3
[[ $OPENED == 10 && $FROM =~ ^203\.0\.113\.1[0-2]x10$ ]] ||
    fail "PoolMode=persistent: 10.0.3.10 got $OPENED connections from '$FROM', expected 10 from one address"
pass "PoolMode=persistent: each client leaves from one address (10.0.2.10: $from2; 10.0.3.10: $FROM)"

printf '[NAT]\nAddresses=203.0.113.13\n' >>"$ROOT/etc/natd/natd.conf"
natd_ctl_expect 0 "reload with Addresses=203.0.113.13" reload
wait_until 5 state_is degraded "Addresses=203.0.113.13 is not an address of $PUB_DEV" ||
    fail "an address the ENI does not have: natd is not degraded naming it: $WAIT_OUT"
postrouting=$(ip netns exec "$NS_NAT" nft list chain ip natd postrouting)
[[ $postrouting != *"snat to 203.0.113.13"* ]] ||
    fail "203.0.113.13 is in the pool although $PUB_DEV does not have it"
pass "Addresses=203.0.113.13, not on $PUB_DEV: degraded naming it, left out of the pool"
ip -n "$NS_NAT" addr add 203.0.113.13/24 dev "$PUB_DEV"
wait_until 5 state_is ready - || fail "203.0.113.13 assigned: natd is not ready: $WAIT_OUT"
postrouting=$(ip netns exec "$NS_NAT" nft list chain ip natd postrouting)
[[ $postrouting == *"snat to 203.0.113.13"* ]] ||
    fail "203.0.113.13 assigned, but not in the pool:"$'\n'"$postrouting"
pass "203.0.113.13 assigned to $PUB_DEV: ready, in the pool"
for n in "${HOST_NETS[@]}"; do
    out=$(ip netns exec "${PFX}h$n" curl -sS --max-time 5 "http://$INET_IP/" 2>&1) ||
        fail "10.0.$n.10 could not reach http://$INET_IP/ through the pool: $out"
    [[ $out =~ ^203\.0\.113\.1[0-3]$ ]] || fail "10.0.$n.10 reached the internet as '$out', not a pool address"
done
pass "every private host reaches the internet from a pool address"
# Addresses= emptied: masquerade to the primary address again.
reload_with Addresses=
check_egress " (Addresses= emptied: masquerade)"
