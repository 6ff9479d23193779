#!/usr/bin/env bash
# Amazon Linux 2023 before amazon-ec2-net-utils wrote the per-ENI file:
# networkd configures the private ENI from a .network file whose [Match]
# selects every ENI (80-ec2.network: Driver=ena ixgbevf vif; Driver=veth
# here). The public ENI is not configured from it yet (a 10-ens5.network
# keeps it unmanaged), so no link assignment gives the sharing away: only
# the [Match] does. natd must
#   - never create anything in 80-ec2.network.d, not even for a moment
#     (inotify on etc/systemd/network under --root, from before natd starts);
#   - install the return routes itself (proto 213), be ready, say why
#     ("not its own"), and ask networkd for nothing;
#   - keep its drop-in in 70-ens6.network.d, where net-utils' per-ENI file
#     will look.
# Then "net-utils" writes 70-ens6.network (a symlink to 80-ec2.network) with
# eni.conf pinning the MAC and reloads networkd: networkd installs the routes
# from natd's drop-in, natd hands them over (its own go) without counting a
# repair or asking for a reload, and stays ready; NAT works throughout.
# Usage: shared-network.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.shared-network "$@"
vpc_create card
write_test_config
boot_prepare
netdir=$ROOT/run/systemd/network
printf '[Match]\nName=%s\n[Link]\nUnmanaged=yes\n' "$PUB_DEV" >"$netdir/10-$PUB_DEV.network"
# AL2023's /usr/lib/systemd/network/80-ec2.network matches Driver=ena ixgbevf
# vif; the addresses stay those vpc_create gave (this is about the drop-in
# directory, not DHCP).
printf '[Match]\nDriver=veth\n[Network]\nLinkLocalAddressing=no\nKeepConfiguration=yes\n' \
    >"$netdir/80-ec2.network"
dbus_start
networkd_start

# It ends with this script; cat with it.
exec {watch_fd}< <(exec "$PY" "$INTEG_DIR/inotify-watch.py" --parent $$ "$ROOT/etc/systemd/network")
line=
read -r -t 10 -u "$watch_fd" line || true
[[ $line == WATCHING ]] || fail "inotify-watch.py did not start: '$line'"
cat <&"$watch_fd" >"$T/created.log" 2>/dev/null &
exec {watch_fd}<&-

natd_start
wait_until 10 natd_on_bus_api || fail "natd did not own io.natd1 on the bus within 10s: $WAIT_OUT"
eni_plug
eni_name card
natd_wait_ready
pass "ready with the private ENI configured from the shared 80-ec2.network"

nf=$(grep '^NETWORK_FILE=' "$ROOT/run/systemd/netif/links/$(ifindex_of "$PRIV_DEV")")
[[ $nf == NETWORK_FILE=/run/systemd/network/80-ec2.network ]] ||
    fail "networkd configures $PRIV_DEV from '$nf', expected the shared 80-ec2.network: the test tests nothing"
out=$(routes_as "$NATD_PROTO") || fail "natd did not install the return routes itself: $out"
pass "the return routes are natd's own: $out"
grep -q "systemd-networkd configures $PRIV_DEV from /run/systemd/network/80-ec2.network, which is not its own" "$T/natd.log" ||
    fail "natd's log does not say why it installs the routes itself:"$'\n'"$(grep 'Installing' "$T/natd.log")"
check_networkd_calls "$T/natd.log" "with the shared file" 0
check_dropin "etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf"
check_egress " (private ENI on the shared file)"
ctl_status 0
[[ $(sj_get route_owner) == natd ]] || fail "status says the routes are $(sj_get route_owner)'s, expected natd's"
repairs0=$(sj_get repairs)

# --- net-utils' per-ENI file ------------------------------------------------------
ln -s 80-ec2.network "$netdir/70-$PRIV_DEV.network"
mkdir "$netdir/70-$PRIV_DEV.network.d"
printf '[Match]\nMACAddress=%s\n' "$PRIV_MAC" >"$netdir/70-$PRIV_DEV.network.d/eni.conf"
log_lines=$(wc -l <"$T/natd.log")
out=$(networkctl_in_ns reload 2>&1) || fail "networkctl reload failed: $out"
wait_routes_as static "after net-utils' 70-$PRIV_DEV.network and its reload"
pass "networkd installed the return routes from natd's drop-in: $ROUTES_SEEN"
wait_until 5 state_is ready || fail "natd is not ready after the handover: $WAIT_OUT"
ctl_status 0
[[ $(sj_get route_owner) == networkd ]] || fail "after the handover status says the routes are $(sj_get route_owner)'s"
[[ $(sj_get repairs) == "$repairs0" ]] || fail "the handover counted as a repair ($repairs0 -> $(sj_get repairs))"
tail -n +$((log_lines + 1)) "$T/natd.log" >"$T/natd-handover.log"
check_networkd_calls "$T/natd-handover.log" "the handover" 0
check_egress " (after the handover)"
pass "handover to networkd: ready, routes networkd's, repairs still $repairs0, no reload asked"

bad=$(grep '80-ec2.network.d' "$T/created.log" || true)
[[ -z $bad ]] || fail "natd created something in the drop-in directory of the shared file:"$'\n'"$bad"
pass "nothing was created in 80-ec2.network.d ($(wc -l <"$T/created.log") creations under etc/systemd/network, all elsewhere)"
