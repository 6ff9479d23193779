#!/usr/bin/env bash
# natd without systemd-networkd and without a system bus: it installs the
# return routes itself over netlink (proto 213) and verifies them, and still
# persists its files under --root: the sysctl.d file and the routes as the
# fallback drop-in 70-ens6.network.d/natd.conf (amazon-ec2-net-utils' naming),
# ready for a networkd that manages the ENI after a reboot. Then checks 1-4.
# Usage: no-networkd.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/networkd-lib.sh
source "$(dirname "$0")/networkd-lib.sh"

nd_init integration.no-networkd "$@"
# (nd_init pointed DBUS_SYSTEM_BUS_ADDRESS at a socket that does not exist.)
vpc_create card
write_test_config

natd_start
natd_settle "the private ENI"
eni_plug
eni_name card
natd_wait_ready
((READY_MS >= ENI_ALTNAME_MS)) ||
    fail "natd sent READY=1 $((ENI_ALTNAME_MS - READY_MS)) ms before the private ENI had its altname"
timing "altname added -> READY=1 (natd installed the routes)" $((READY_MS - ENI_ALTNAME_MS))

out=$(routes_as "$NATD_PROTO") ||
    fail "READY=1, but the return routes are not natd's own (proto $NATD_PROTO): $out"
pass "at READY=1 the return routes are natd's own: $out"
grep -q 'Installing the return routes over netlink' "$T/natd.log" ||
    fail "natd's log does not say it installed the return routes over netlink"
if grep -q 'Asking systemd-networkd' "$T/natd.log"; then
    fail "natd asked systemd-networkd for something although networkd does not manage $PRIV_DEV"
fi
pass "natd installed the routes over netlink and did not call systemd-networkd: $(grep -m1 'Installing the return routes' "$T/natd.log" | sed 's/.*info: //')"

dropin=etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf
check_natd_files "$dropin"

check_egress
check_inbound_blocked
check_nat_state
check_sigterm
out=$(routes_as "$NATD_PROTO") || fail "after natd exited, its return routes are gone: $out"
pass "after natd exited its return routes stay: $out"
