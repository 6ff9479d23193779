#!/usr/bin/env bash
# The NAT instance reboots and its ENIs come back under different kernel
# names (ens5/ens6 -> ens7/ens8; same altnames device-number-0.0/1.0, same
# private MAC), with a fresh /run (networkd state, net-utils' 70-<if>.network
# files, the bus) and the same /etc and /var/lib. After natd starts again
# with systemd-networkd: the private hosts reach the internet again, the
# drop-in follows the ENI (70-ens8.network.d/natd.conf) and the stale
# 70-ens6.network.d is gone, /var/lib/natd/files lists only current files,
# and the persisted sysctl.d file alone turns forwarding on in a fresh
# namespace (what systemd-sysctl does at boot).
# Usage: reboot.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/networkd-lib.sh
source "$(dirname "$0")/networkd-lib.sh"

nd_init integration.reboot "$@"
vpc_create card
write_test_config

# --- boot 1: as in networkd.sh ----------------------------------------------
boot_with_networkd "boot 1"
old_dropin=etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf
check_dropin "$old_dropin"
check_egress " (boot 1)"

# --- the reboot ----------------------------------------------------------------
# Power cut: every process of the instance dies, its kernel state with it.
boot_stop_all
# The instance comes back; the ENIs get other kernel names this time (and
# their altnames at once).
instance_reboot ens7 ens8
ip -n "$NS_NAT" link property add dev "$PUB_DEV" altname device-number-0.0
ip -n "$NS_NAT" link property add dev "$PRIV_DEV" altname device-number-1.0
info "boot 2: ENIs $PUB_DEV (device-number-0.0) and $PRIV_DEV (device-number-1.0, $PRIV_MAC)"

boot_prepare
write_network_file "$PUB_DEV" "Name=$PUB_DEV" "Address=$PUB_IP/24" "Gateway=$INET_IP"
write_network_file "$PRIV_DEV" "Name=$PRIV_DEV" "Address=$PRIV_IP/24"
[[ -f $ROOT/$old_dropin ]] || fail "boot 2: $old_dropin did not survive the reboot (persistent /etc)"
fwd=$(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward)
[[ $fwd == 0 ]] || fail "boot 2: ip_forward is $fwd before natd started, expected 0"
dbus_start
networkd_start
boot2_log_line=$(($(wc -l <"$T/natd.log") + 1))
natd_start
natd_wait_ready
timing "boot 2: natd started -> READY=1" $((READY_MS - NATD_START_MS))
tail -n +"$boot2_log_line" "$T/natd.log" >"$T/natd-boot2.log"
if grep -q 'Installing the return routes over netlink' "$T/natd-boot2.log"; then
    info "boot 2: natd first installed the routes itself (networkd had not yet said it manages $PRIV_DEV), then handed them to networkd"
fi

# --- after the reboot -------------------------------------------------------------
# The new drop-in needs one Reload; READY=1 means networkd's routes are in.
check_networkd_calls "$T/natd-boot2.log" "boot 2" 1
out=$(routes_as static) || fail "boot 2: READY=1, but the return routes are not networkd's (proto static) on $PRIV_DEV: $out"
pass "boot 2: $out"
check_egress " (after the reboot)"
check_nat_state
new_dropin=etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf
check_dropin "$new_dropin"
[[ ! -e $ROOT/$old_dropin ]] || fail "boot 2: the stale $old_dropin is still there"
[[ ! -e $ROOT/etc/systemd/network/70-$OLD_PRIV_DEV.network.d ]] ||
    fail "boot 2: the directory etc/systemd/network/70-$OLD_PRIV_DEV.network.d is still there: $(ls -A "$ROOT/etc/systemd/network/70-$OLD_PRIV_DEV.network.d")"
grep -q "Removed .*/$old_dropin" "$T/natd-boot2.log" || fail "boot 2: natd's log does not say it removed $old_dropin"
pass "boot 2: the stale 70-$OLD_PRIV_DEV.network.d (file and directory) is gone"
check_registry /etc/sysctl.d/90-natd.conf "/$new_dropin"
files=$(natd_files_under_root)
[[ $files == "$(printf '%s\n' "$new_dropin" etc/sysctl.d/90-natd.conf | sort)" ]] ||
    fail "boot 2: natd's files under --root are:"$'\n'"$files"$'\n'"expected only $new_dropin and etc/sysctl.d/90-natd.conf"
pass "boot 2: under --root there are exactly $new_dropin and etc/sysctl.d/90-natd.conf"
check_sysctl_file

# The persisted sysctl.d file alone turns forwarding on.
fresh=${PFX}fresh
new_ns "$fresh"
fwd=$(ip netns exec "$fresh" sysctl -n net.ipv4.ip_forward)
if [[ $fwd != 0 ]]; then
    info "a new namespace inherits ip_forward=$fwd from the host; setting 0 as after a boot"
    ip netns exec "$fresh" sysctl -q -w net.ipv4.ip_forward=0
fi
out=$(ip netns exec "$fresh" sysctl -p "$ROOT/etc/sysctl.d/90-natd.conf" 2>&1) ||
    fail "sysctl -p /etc/sysctl.d/90-natd.conf failed in a fresh namespace: $out"
fwd=$(ip netns exec "$fresh" sysctl -n net.ipv4.ip_forward)
[[ $fwd == 1 ]] || fail "after sysctl -p /etc/sysctl.d/90-natd.conf ip_forward is $fwd in a fresh namespace"
pass "sysctl -p /etc/sysctl.d/90-natd.conf in a fresh namespace: ip_forward 0 -> 1 ($out)"
ns_delete "$fresh"

tail -n +"$boot2_log_line" "$T/natd.log" >"$T/natd-boot2.log"
check_networkd_calls "$T/natd-boot2.log" "boot 2, until now" 1
check_inbound_blocked
check_sigterm
