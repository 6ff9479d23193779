#!/usr/bin/env bash
# Amazon Linux 2023 reboots. Boot 1 is al2023-boot.sh's (al2023-lib.sh's
# al2023_first_boot: DHCP from dnsmasq, 80-ec2.network, net-utils' per-ENI
# files, natd ready with networkd's routes). Then natd is stopped (SIGTERM),
# networkd and the bus go, and the instance comes back with its ENIs under
# other kernel names (ens5/ens6 -> ens7/ens8; same MACs), a fresh /run (no
# networkd state, no net-utils files, a new bus) and the same /etc and
# /var/lib. Boot 2 goes as on AL2023: networkd configures both ENIs by DHCP
# from 80-ec2.network and natd starts after it (natd.service:
# After=systemd-networkd.service); then net-utils' policy-routes@ for each
# ENI, once networkd configured it (it waits with systemd-networkd-wait-online),
# writes 70-<if>.network and its eni.conf and adds the altname
# device-number-N.0, and the last of them reloads networkd (as net-utils'
# setup-policy-routes.sh does, on exit). So natd finds its private ENI while
# both ENIs are still configured from the shared 80-ec2.network, and races
# the reload with its drop-in. natd must, on boot 2,
#   - become ready with NAT working, the return routes networkd's in the
#     end, the drop-in following the ENI (70-ens8.network.d/natd.conf), the
#     stale 70-ens6.network.d gone and /var/lib/natd/files listing only the
#     current files;
#   - leave the main table with the public ENI's default route only
#     (UseGateway=no on the new name), net-utils' table 10001 untouched;
#   - never log "systemd-networkd does not manage ens8" nor an error, ask
#     networkd to reload at most once (once when networkd read 70-ens8.network
#     before natd's drop-in was there, none when after), and count no repair
#     (natd-ctl status: 0): networkd reconfiguring the ENI for net-utils'
#     file removes its address and natd's routes, and then hands them over;
#   - never create anything in 80-ec2.network.d (inotify over both boots).
# Prints the time from natd's start and from the private altname to READY=1,
# and from net-utils' reload to networkd's routes.
# Usage: al2023-reboot.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/al2023-lib.sh
source "$(dirname "$0")/al2023-lib.sh"

al2023_init integration.al2023-reboot "$@"
al2023_first_boot
old_dropin=etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf
check_natd_files "$old_dropin"

# --- the reboot ----------------------------------------------------------------------
natd_stop      # systemd stops natd (it leaves the NAT in place) ...
boot_stop_all  # ... and the rest goes with the instance
# The VPC's DHCP stays, but the ends it served go with the instance.
dhcp_stop igw0
dhcp_stop r-nat
instance_reboot ens7 ens8

# --- boot 2 ---------------------------------------------------------------------------
boot_prepare
write_80_ec2
[[ -f $ROOT/$old_dropin ]] || fail "boot 2: $old_dropin did not survive the reboot (persistent /etc)"
dhcp_serve "$NS_INET" igw0 203.0.113.0 "$(link_mac "$PUB_DEV")" "$PUB_IP" "$INET_IP"
dhcp_serve "$NS_RTR" r-nat 10.0.1.0 "$PRIV_MAC" "$PRIV_IP" "$PRIV_GW"
dbus_start
networkd_start
boot2_log_line=$(($(wc -l <"$T/natd.log") + 1))
natd_start
wait_until 10 natd_on_bus_api || fail "boot 2: natd did not own io.natd1 on the bus within 10s: $WAIT_OUT"
for dev in "$PUB_DEV" "$PRIV_DEV"; do
    wait_until 20 networkd_configured "$dev" 80-ec2.network ||
        fail "boot 2: networkd did not configure $dev from 80-ec2.network: $WAIT_OUT"
done
out=$(has_address "$PUB_DEV" "$PUB_IP") || fail "boot 2: $out (DHCP from 80-ec2.network)"
out=$(has_address "$PRIV_DEV" "$PRIV_IP") || fail "boot 2: $out (DHCP from 80-ec2.network)"
# 80-ec2.network takes the DHCP gateway on every ENI: the hazard is real.
private_default_too >/dev/null || fail "boot 2: 80-ec2.network gave $PRIV_DEV no default route: the test tests nothing: $(default_routes main)"
pass "boot 2: networkd configured $PUB_DEV and $PRIV_DEV by DHCP from the shared 80-ec2.network; main table: $(default_routes main)"

# net-utils: policy-routes@ens7 and @ens8; the last one reloads.
net_utils_files "$PUB_DEV" 0 203.0.113.0/24
net_utils_altname "$PUB_DEV" 0
net_utils_files "$PRIV_DEV" 1 10.0.1.0/24
net_utils_altname "$PRIV_DEV" 1
priv_altname_ms=$ALTNAME_MS
reload_ms=0
now_ms reload_ms
net_utils_reload
natd_wait_ready
timing "boot 2: natd started -> READY=1" $((READY_MS - NATD_START_MS))
timing "boot 2: private altname -> READY=1" $((READY_MS - priv_altname_ms))

# --- after the reboot ------------------------------------------------------------------
wait_routes_as static "boot 2"
now_ms t
timing "boot 2: net-utils' reload -> return routes networkd's (at most)" $((t - reload_ms))
pass "boot 2: the return routes are networkd's: $ROUTES_SEEN"
wait_until 10 main_default_is_public ||
    fail "boot 2: $WAIT_OUT (UseGateway=no in 70-$PRIV_DEV.network.d/natd.conf: no default route via $PRIV_DEV)"
pass "boot 2: main table: the only default route is $WAIT_OUT"
check_table_10001 "boot 2"
check_egress " (boot 2)"
check_nat_state
wait_until 10 state_is ready - || fail "boot 2: natd is not ready: $WAIT_OUT"
ctl_status 0
[[ $(sj_get route_owner) == networkd ]] || fail "boot 2: status says the routes are $(sj_get route_owner)'s, expected networkd's"
[[ $(sj_get repairs) == 0 ]] || fail "boot 2: natd counted $(sj_get repairs) repair(s); nothing was undone (the handover to networkd is none)"
pass "boot 2: natd-ctl status: ready, routes networkd's, 0 repairs"

# natd's files: the drop-in followed the ENI, the stale one is gone.
check_natd_files "etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf"
[[ ! -e $ROOT/etc/systemd/network/70-$OLD_PRIV_DEV.network.d ]] ||
    fail "boot 2: etc/systemd/network/70-$OLD_PRIV_DEV.network.d is still there: $(ls -A "$ROOT/etc/systemd/network/70-$OLD_PRIV_DEV.network.d")"
tail -n +"$boot2_log_line" "$T/natd.log" >"$T/natd-boot2.log"
grep -q "Removed .*/$old_dropin" "$T/natd-boot2.log" || fail "boot 2: natd's log does not say it removed $old_dropin"
pass "boot 2: the stale 70-$OLD_PRIV_DEV.network.d (file and directory) is gone"

# What natd said and asked on boot 2.
if grep -q 'Installing the return routes over netlink' "$T/natd-boot2.log"; then
    info "boot 2: $(grep -m1 -o 'Installing the return routes over netlink.*' "$T/natd-boot2.log")"
fi
bad=$(grep "does not manage $PRIV_DEV" "$T/natd-boot2.log" || true)
[[ -z $bad ]] || fail "boot 2: natd logged that networkd does not manage $PRIV_DEV:"$'\n'"$bad"
bad=$(grep ' error: ' "$T/natd-boot2.log" || true)
[[ -z $bad ]] || fail "boot 2: natd logged errors:"$'\n'"$bad"
reloads=$(count_reloads "$T/natd-boot2.log")
((reloads <= 1)) || fail "boot 2: natd asked systemd-networkd to reload $reloads times"
check_networkd_calls "$T/natd-boot2.log" "boot 2" "$reloads"
if ((reloads == 1)); then
    info "boot 2: networkd had read 70-$PRIV_DEV.network before natd's drop-in was there: natd asked for the reload"
else
    info "boot 2: networkd read natd's drop-in with net-utils' reload"
fi
pass "boot 2: natd logged no error, never said networkd does not manage $PRIV_DEV, and asked for $reloads reload(s)"
check_no_shared_dropin "boot 1 and 2"
