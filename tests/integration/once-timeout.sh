#!/usr/bin/env bash
# natd --once with WaitTimeoutSec=1s gives up when the private ENI never
# resolves: exit 1, a message naming what was missing, nothing applied.
# Two cases: no private ENI at all; the ENI (with altname) but no IPv4 address.
# And applied but degraded (no default route via the public ENI): exit 1 at
# the timeout naming it; with the route back, exit 0.
# Usage: once-timeout.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

lib_init integration.once-timeout "$@"
ENI_STEP_DELAY=0
vpc_create card
write_config etc/natd/natd.conf <<EOF
[Interfaces]
WaitTimeoutSec=1s

[Routes]
Subnets=$SUBNETS
EOF

# once_times_out CASE PATTERN: natd --once must exit 1 after about 1s, its
# last stderr line matching PATTERN (grep -Ei), and leave the kernel alone.
once_times_out() {
    local name=$1 pattern=$2 t0 t1 rc=0 err last
    now_ms t0
    timeout 15 ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" --once </dev/null 2>"$T/err" >/dev/null || rc=$?
    now_ms t1
    err=$(<"$T/err")
    ((rc != 124)) || fail "$name: natd --once still running 15s after start with WaitTimeoutSec=1s"
    ((rc == 1)) || fail "$name: natd --once exited with status $rc, expected 1 (timeout); stderr: $err"
    # The last word on stderr is the reason natd gives up.
    last=$(grep -v '^[[:space:]]*$' <<<"$err" | tail -n 1)
    grep -Eiq "$pattern" <<<"$last" ||
        fail "$name: natd's last stderr line does not name what was missing (expected /$pattern/): $err"
    ((t1 - t0 >= 1000)) || fail "$name: natd gave up after $((t1 - t0)) ms, before WaitTimeoutSec=1s"
    ! ip netns exec "$NS_NAT" nft list table ip natd >/dev/null 2>&1 || fail "$name: table ip natd was created"
    [[ $(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward) == 0 ]] || fail "$name: ip_forward was set"
    timing "$name: natd --once start -> exit 1 (WaitTimeoutSec=1s)" $((t1 - t0))
    pass "$name: natd --once exited 1 after $((t1 - t0)) ms: $last"
}

once_times_out "no private ENI" 'device-number-1'
eni_plug noaddr
eni_name card
once_times_out "private ENI without IPv4 address" 'address|ipv4'

# Applied but NAT cannot work (no default route via the public ENI): --once
# promises NAT works, so it waits degraded and exits 1 at the timeout naming
# the cause; what it applied stays (it is right, and the route may come).
ip -n "$NS_NAT" addr add "$PRIV_IP/24" dev "$PRIV_DEV"
ip -n "$NS_NAT" route del default via "$INET_IP"
now_ms t0
rc=0
timeout 15 ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" --once </dev/null 2>"$T/err" >/dev/null || rc=$?
now_ms t1
err=$(<"$T/err")
((rc == 1)) || fail "no default route: natd --once exited with status $rc, expected 1; stderr: $err"
last=$(grep -v '^[[:space:]]*$' <<<"$err" | tail -n 1)
[[ $last == *"Timed out"* && $last == *"no default route via $PUB_DEV"* ]] ||
    fail "no default route: natd's last stderr line does not say it timed out degraded naming the route: $err"
ip netns exec "$NS_NAT" nft list table ip natd >/dev/null 2>&1 || fail "no default route: table ip natd was not applied"
pass "no default route: natd --once applied, waited degraded, exited 1 after $((t1 - t0)) ms: $last"
ip -n "$NS_NAT" route add default via "$INET_IP"
rc=0
timeout 15 ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" --once </dev/null 2>"$T/err" >/dev/null || rc=$?
((rc == 0)) || fail "default route back: natd --once exited $rc: $(<"$T/err")"
pass "default route back: natd --once exits 0"
