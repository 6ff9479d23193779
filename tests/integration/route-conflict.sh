#!/usr/bin/env bash
# Return routes never clobber. In the simulated VPC (no networkd, natd on a
# private system bus):
#   1. Subnets= also lists the public ENI's own subnet 203.0.113.0/24: natd
#      is degraded naming it, the public ENI's connected route and the
#      default route are untouched (compared before and after), NAT for the
#      other subnets works, and `natd --teardown` leaves the connected route.
#   2. An admin's route for a listed destination (10.0.3.0/24 via the IGW,
#      proto static) is there before natd starts: degraded naming it, the
#      route untouched, natd's other route in; once the admin deletes it,
#      natd installs its own and is ready.
#   3. The admin replaces natd's route (ip route replace): natd is degraded
#      naming the conflict and does not put its own back over it.
# Usage: route-conflict.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.route-conflict "$@"
drift_vpc

# route_of DST: the main table's routes for exactly DST, as "via GW dev DEV proto P".
route_of() {
    ip -n "$NS_NAT" -4 -j route show table main exact "$1" | "$PY" -c '
import json, sys
print("; ".join("via %s dev %s proto %s" % (r.get("gateway", "-"), r["dev"], r.get("protocol", "boot"))
                for r in json.load(sys.stdin)))'
}
public_routes() {
    ip -n "$NS_NAT" -4 -j route show table main dev "$PUB_DEV" | "$PY" -m json.tool --sort-keys
}

# --- 1. Subnets= with the public ENI's own subnet ---------------------------------
write_config etc/natd/natd.conf <<EOF
# natd integration test ($TEST_NAME)
[Interfaces]
WaitTimeoutSec=60s
[Routes]
Subnets=$SUBNETS 203.0.113.0/24
EOF
before=$(public_routes)
drift_ready
wait_until 5 state_is degraded "203.0.113.0/24 is the public ENI $PUB_DEV's own subnet" ||
    fail "1. with Subnets= listing the public subnet natd is not degraded naming it: $WAIT_OUT"
after=$(public_routes)
[[ $after == "$before" ]] ||
    fail "1. natd changed the public ENI's routes:"$'\n'"$(diff <(echo "$before") <(echo "$after"))"
[[ $(route_of 203.0.113.0/24) == "via - dev $PUB_DEV proto kernel" ]] ||
    fail "1. the public connected route is now: $(route_of 203.0.113.0/24)"
check_egress " (1. public subnet listed)"
ctl_status 1
pass "1. public subnet listed: degraded ($(sj_get warnings)), connected and default routes untouched, NAT works"
natd_stop
ip netns exec "$NS_NAT" "$NATD" --teardown --root "$ROOT" >"$T/teardown.out" 2>&1 ||
    fail "1. natd --teardown failed: $(cat "$T/teardown.out")"
[[ $(route_of 203.0.113.0/24) == "via - dev $PUB_DEV proto kernel" ]] ||
    fail "1. after teardown the public connected route is: '$(route_of 203.0.113.0/24)'"
[[ $(public_routes) == "$before" ]] || fail "1. natd --teardown changed the public ENI's routes"
pass "1. natd --teardown left the public connected route and the default route"

# --- 2. an admin's route for a listed destination -----------------------------------
write_test_config
ip -n "$NS_NAT" route add 10.0.3.0/24 via "$INET_IP" dev "$PUB_DEV" proto static
admin=$(route_of 10.0.3.0/24)
natd_start
natd_wait_ready
wait_until 5 state_is degraded "10.0.3.0/24 via $PRIV_GW dev $PRIV_DEV conflicts with an existing route 10.0.3.0/24 via $INET_IP dev $PUB_DEV proto 4" ||
    fail "2. with an admin's route for 10.0.3.0/24 natd is not degraded naming it: $WAIT_OUT"
[[ $(route_of 10.0.3.0/24) == "$admin" ]] || fail "2. the admin's route changed: $(route_of 10.0.3.0/24) (was $admin)"
[[ $(route_of 10.0.2.0/24) == "via $PRIV_GW dev $PRIV_DEV proto $NATD_PROTO" ]] ||
    fail "2. natd's route for 10.0.2.0/24 is not there: $(route_of 10.0.2.0/24)"
ctl_status 1
pass "2. admin's route for 10.0.3.0/24 left alone ($admin); degraded: $(sj_get warnings)"
ip -n "$NS_NAT" route del 10.0.3.0/24 via "$INET_IP" dev "$PUB_DEV"
wait_until 5 state_is ready - || fail "2. the admin's route gone, natd is not ready: $WAIT_OUT"
out=$(natd_routes_on "$PRIV_DEV") || fail "2. after the admin's route went: $out"
check_egress " (2. admin's route gone)"
pass "2. admin's route deleted: natd installed its own ($out), ready"

# --- 3. the admin replaces natd's route ---------------------------------------------
ip -n "$NS_NAT" route replace 10.0.2.0/24 via "$INET_IP" dev "$PUB_DEV" proto static
wait_until 5 state_is degraded "10.0.2.0/24 via $PRIV_GW dev $PRIV_DEV conflicts with an existing route" ||
    fail "3. natd's route replaced by the admin: natd is not degraded naming it: $WAIT_OUT"
mon_start
mon_quiet 1 "^[0-9]+ route (add|del) 10\.0\.2\.0/24 " "3. natd touched 10.0.2.0/24 after the admin replaced it"
[[ $(route_of 10.0.2.0/24) == "via $INET_IP dev $PUB_DEV proto static" ]] ||
    fail "3. the admin's route for 10.0.2.0/24 is now: $(route_of 10.0.2.0/24)"
pass "3. natd's route replaced by the admin: degraded, the admin's route stays for a second: $(route_of 10.0.2.0/24)"
