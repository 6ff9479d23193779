#!/usr/bin/env bash
# natd recovers by itself and keeps repairing (the reconciler never gives up),
# in the simulated VPC without systemd-networkd, natd on a private system bus:
#
# 1. A failed apply, then fixed: ROOT/etc/systemd/network is a regular file
#    when the private ENI comes, so natd cannot write its drop-in. natd puts
#    the kernel part in place anyway (NAT works), reports "failed" naming
#    the error and retries with backoff; once the file is replaced by a
#    directory natd becomes ready by itself — no SIGHUP, no Reapply — and
#    still repairs a flushed ruleset and a deleted route afterwards.
# 2. Ambiguity while applied: a second link with the altname
#    device-number-1.1 makes the private selector ambiguous. natd waits (it
#    must not guess), says it keeps the NAT in place, and meanwhile repairs
#    a flushed ruleset, a deleted return route and ip_forward=0. When the
#    link goes, natd is ready again.
# 3. The private ENI loses its address for a while: the same guard.
# Usage: recover.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.recover "$@"
drift_vpc
fixed_ms='' ready_ms=''

# kernel_as_planned: natd's table, both return routes and ip_forward are
# there (for wait_until).
kernel_as_planned() {
    one_table >/dev/null || { echo "no table ip natd"; return 1; }
    natd_routes_on "$PRIV_DEV" >/dev/null || { echo "return routes missing"; return 1; }
    [[ $(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward) == 1 ]] || { echo "ip_forward is 0"; return 1; }
}

# drift_and_check WHEN: undo table, a route and forwarding; natd restores
# all three (it is guarding, whatever its state).
drift_and_check() {
    local when=$1 t0 t1
    ip netns exec "$NS_NAT" nft flush ruleset
    ip -n "$NS_NAT" route del 10.0.2.0/24
    ip netns exec "$NS_NAT" sysctl -q -w net.ipv4.ip_forward=0
    now_ms t0
    wait_until 5 kernel_as_planned || fail "$when: natd did not restore table, route and forwarding within 5s: $WAIT_OUT"$'\n'"$(tail -n 20 "$T/natd.log")"
    now_ms t1
    timing "$when: flush + route del + ip_forward=0 -> all restored (polled)" $((t1 - t0))
    pass "$when: table, return route and ip_forward restored"
}

# --- 1. failed apply, then fixed ------------------------------------------------
rm -rf "$ROOT/etc/systemd/network"
echo "not a directory" >"$ROOT/etc/systemd/network"
natd_start
wait_until 10 natd_on_bus_api || fail "natd did not own io.natd1 on the bus within 10s: $WAIT_OUT"
eni_plug
eni_name card
wait_until 10 state_is failed || fail "natd did not report failed with an unwritable drop-in directory: $WAIT_OUT"
ctl_status 1
status=$(sj_get status)
[[ $status == *[Nn]"ot a directory"* ]] || fail "natd's failure does not name the error: $status"
pass "unwritable drop-in directory: natd says failed: $status"
check_egress " (the kernel part is in place although the files failed)"
retries_before=$(grep -c 'Could not write natd.s files' "$T/natd.log" || true)

rm -f "$ROOT/etc/systemd/network"
mkdir -p "$ROOT/etc/systemd/network"
now_ms fixed_ms
wait_until 40 state_is ready || fail "natd did not recover by itself after the directory was fixed: $WAIT_OUT"
now_ms ready_ms
timing "directory fixed -> ready (backoff retry, polled)" $((ready_ms - fixed_ms))
((retries_before >= 1)) || fail "natd did not log the failed write"
check_dropin "$(dropin_dir "$PRIV_DEV")/natd.conf"
check_registry "/$SYSCTL_REL" "/$(dropin_dir "$PRIV_DEV")/natd.conf"
natd_wait_ready
((READY_MS >= fixed_ms)) || fail "natd sent READY=1 before its files could be written"
pass "fixed: natd wrote its files and is ready again by itself ($retries_before failed attempts logged)"
drift_and_check "after recovery"
wait_until 5 state_is ready || fail "not ready after the repairs: $WAIT_OUT"

# --- 2. ambiguity while applied -------------------------------------------------
ip -n "$NS_NAT" link add amb0 type veth peer name amb1
ip -n "$NS_NAT" link set amb0 up
ip -n "$NS_NAT" link set amb1 up
ip -n "$NS_NAT" link property add dev amb0 altname device-number-1.1
wait_until 5 state_is waiting || fail "natd did not wait on an ambiguous private selector: $WAIT_OUT"
ctl_status 1
status=$(sj_get status)
[[ $status == *"matches several interfaces"*"keeping NAT $PRIV_DEV -> $PUB_DEV in place"* ]] ||
    fail "natd's status does not say why it waits and that it keeps the NAT: $status"
pass "ambiguous selector: $status"
drift_and_check "while waiting on an ambiguous selector"
check_egress " (while waiting on an ambiguous selector)"
ip -n "$NS_NAT" link del amb0
wait_until 5 state_is ready || fail "natd not ready after the second link went: $WAIT_OUT"
pass "the extra link gone: ready again"

# --- 3. the private ENI without its address ------------------------------------
ip -n "$NS_NAT" addr del "$PRIV_IP/24" dev "$PRIV_DEV"
wait_until 5 state_is waiting || fail "natd did not wait for the private ENI's address: $WAIT_OUT"
ip netns exec "$NS_NAT" nft flush ruleset
ip netns exec "$NS_NAT" sysctl -q -w net.ipv4.ip_forward=0
wait_until 5 one_table || fail "natd did not restore its table while the ENI had no address"
[[ $(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward) == 1 ]] || fail "ip_forward not restored while waiting"
pass "private ENI without address: table and ip_forward restored while waiting"
ip -n "$NS_NAT" addr add "$PRIV_IP/24" dev "$PRIV_DEV"
wait_until 5 state_is ready || fail "natd not ready after the address came back: $WAIT_OUT"
check_egress " (after the address came back)"
check_nat_state
ctl_status 0
pass "ready again: $(sj_get status), $(sj_get repairs) repairs"
