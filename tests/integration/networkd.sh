#!/usr/bin/env bash
# natd next to the real systemd-networkd, which configures the ENIs from
# 70-<if>.network files (as amazon-ec2-net-utils writes them). natd starts
# before the private ENI exists; once it is there, natd writes the return
# routes as a drop-in of the .network file networkd uses for it
# (70-ens6.network.d/natd.conf), has networkd reload, and is READY only once
# networkd installed the routes (proto static). They survive
# `networkctl reconfigure ens6`; then checks 1-4 (see lib.sh).
# Usage: networkd.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/networkd-lib.sh
source "$(dirname "$0")/networkd-lib.sh"

nd_init integration.networkd "$@"
vpc_create card
write_test_config

boot_with_networkd "first start"
timing "natd started -> READY=1 (includes the simulated ENI attach)" $((READY_MS - NATD_START_MS))
dropin=etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf
check_natd_files "$dropin"
nf=$(grep '^NETWORK_FILE=' "$ROOT/run/systemd/netif/links/$(ip -n "$NS_NAT" -j link show "$PRIV_DEV" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')")
[[ $nf == NETWORK_FILE=/run/systemd/network/70-$PRIV_DEV.network ]] ||
    fail "networkd says it configures $PRIV_DEV with '$nf', expected /run/systemd/network/70-$PRIV_DEV.network"
info "networkd: $PRIV_DEV $nf"

check_egress
check_nat_state

# networkctl reconfigure: networkd drops and re-applies the link's
# configuration, the drop-in included; the routes must come back (as
# networkd's) and natd must carry on.
log_lines=$(wc -l <"$T/natd.log")
monitor_start "$T/reconfigure-events.log" route address
t0=0
now_ms t0
out=$(networkctl_in_ns reconfigure "$PRIV_DEV" 2>&1) ||
    fail "networkctl reconfigure $PRIV_DEV failed: $out"
natd_wait_settled "$t0" "networkctl reconfigure $PRIV_DEV"
wait_routes_as static "after networkctl reconfigure $PRIV_DEV"
monitor_stop "$T/reconfigure-events.log"
pass "after networkctl reconfigure $PRIV_DEV the routes are networkd's again: $ROUTES_SEEN"
natd_alive || fail "natd exited after networkctl reconfigure $PRIV_DEV"
timing "networkctl reconfigure $PRIV_DEV -> natd Ready again" $((SETTLED_MS - t0))
info "route and address events during the reconfiguration:"
sed 's/^/    /' "$T/reconfigure-events.log"
gap=$(route_gap_ms "$T/reconfigure-events.log")
[[ -z $gap ]] || timing "return routes absent during networkd's reconfiguration" "$gap"
info "natd's log since the reconfiguration:"
tail -n +$((log_lines + 1)) "$T/natd.log" | tee "$T/natd-reconfigure.log" | sed 's/^/    /'
# networkd restores its own configuration: natd has nothing to ask it.
check_networkd_calls "$T/natd-reconfigure.log" "networkctl reconfigure $PRIV_DEV" 0
check_egress " (after networkctl reconfigure)"
check_dropin "$dropin"

check_inbound_blocked
check_networkd_calls "$T/natd.log" "whole run" 1
check_sigterm
out=$(routes_as static) || fail "after natd exited, the return routes are not networkd's: $out"
pass "after natd exited the return routes stay networkd's: $out"
