#!/usr/bin/env bash
# natd follows the private ENI through detach and re-attach under a new
# kernel name, $REATTACH_ROUNDS times in a row. With natd ready in the
# simulated VPC (no networkd, natd on a private system bus):
#   1. the private ENI is detached (its veth deleted): natd-ctl status says
#      "waiting" for the private interface (device-number-1), and natd's
#      table stays in place;
#   2. it is attached again as EC2 + udev do it, with the same MAC, under a
#      new kernel name (ens7, ens8, ...), brought up, given its address, and
#      a moment later amazon-ec2-net-utils adds the same altname
#      device-number-1.0: natd does nothing before the altname appears, and
#      within $REATTACH_LIMIT_MS ms of it natd's table names the new
#      interface and both return routes are on it (netlink event stamps);
#   3. natd's drop-in is the one for the new name under --root
#      (70-<new>.network.d/natd.conf), the previous one is gone, natd's
#      record lists exactly its files, status says ready on the new name,
#      and the private hosts reach the internet through the NAT.
# Prints the altname -> table and altname -> routes figures of every round
# and their p50/max.
# Usage: reattach.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

REATTACH_ROUNDS=${REATTACH_ROUNDS:-10}
REATTACH_LIMIT_MS=${REATTACH_LIMIT_MS:-1000}

drift_init integration.reattach "$@"
drift_vpc
drift_ready
check_egress " (before detaching)"
mon_start

applied_re() {  # natd's own table or routes (anything natd installs)
    echo "^[0-9]+ (nft $NATD_PID natd .*NEWTABLE:ip:natd( |$)|route add 10\.0\.[23]\.0/24 .* proto $NATD_PROTO )"
}

table_ms=() routes_ms=() both_us=() t_detach=0 t_waiting=0
for ((round = 1; round <= REATTACH_ROUNDS; round++)); do
    old=$PRIV_DEV
    new=ens$((6 + round))
    [[ $new != "$old" ]] || new=ens$((40 + round))
    # 1. detach.
    mon_drain
    now_ms t_detach
    ip -n "$NS_NAT" link del "$old"
    wait_until 5 waiting_private ||
        fail "round $round: 5s after detaching $old natd-ctl status does not say waiting for device-number-1: $WAIT_OUT"$'\n'"$CTL_OUT"
    now_ms t_waiting
    natd_ctl status --json
    out=$(ip netns exec "$NS_NAT" nft list table ip natd 2>&1) ||
        fail "round $round: natd's table is gone after the ENI was detached: $out"
    info "round $round: $old detached; natd waiting for $(sj_get waiting_for) (status polled: seen within $((t_waiting - t_detach)) ms); its table stays"

    # 2. attach under the new name; the altname a moment later.
    PRIV_DEV=$new
    eni_plug
    ifx=$(ifindex_of "$new")
    eni_name card
    # Up to the first event with the altname, natd must have applied nothing.
    mon_must 5 "^[0-9]+ link new $ifx $new up altnames=device-number-1\.0$|$(applied_re)" \
        "round $round: the altname on $new"
    [[ $MON_LINE == *altnames=device-number-1.0 ]] ||
        fail "round $round: natd applied before $new had the altname device-number-1.0: $MON_LINE"
    t_alt=$MON_US
    if ! mon_all 5 "^[0-9]+ nft $NATD_PID natd .*NEWTABLE:ip:natd( |$)" \
        "^[0-9]+ route add 10\.0\.2\.0/24 dev $ifx proto $NATD_PROTO " \
        "^[0-9]+ route add 10\.0\.3\.0/24 dev $ifx proto $NATD_PROTO "; then
        fail "round $round: within 5s of the altname on $new, natd did not install: $MON_MISSING"$'\n'"natd's log:"$'\n'"$(tail -n 15 "$T/natd.log")"
    fi
    t_table=$((MON_STAMPS[0] - t_alt))
    t_routes=$(((MON_STAMPS[1] > MON_STAMPS[2] ? MON_STAMPS[1] : MON_STAMPS[2]) - t_alt))
    table_ms+=("$t_table") routes_ms+=("$t_routes") both_us+=($((MON_US - t_alt)))
    timing "round $round ($old -> $new): altname -> table on $new" "$(us_ms "$t_table")"
    timing "round $round ($old -> $new): altname -> both routes on $new" "$(us_ms "$t_routes")"
    ((MON_US - t_alt < REATTACH_LIMIT_MS * 1000)) ||
        fail "round $round: natd's table and routes on $new came $(us_ms $((MON_US - t_alt))) ms after its altname, limit $REATTACH_LIMIT_MS ms"

    # 3. the result.
    out=$(table_on "$new") || fail "round $round: $out"
    routes=$(natd_routes_on "$new") || fail "round $round: $routes"
    dropin=$(dropin_dir "$new")/natd.conf
    old_dropin=$(dropin_dir "$old")/natd.conf
    check_dropin "$dropin"
    [[ ! -e $ROOT/$old_dropin ]] || fail "round $round: the drop-in for $old is still there: $old_dropin"
    [[ ! -e $ROOT/$(dirname "$old_dropin") ]] ||
        fail "round $round: natd's drop-in directory for $old is still there: $(dirname "$old_dropin")"
    n=$(find "$ROOT/etc/systemd/network" -name natd.conf | wc -l)
    ((n == 1)) || fail "round $round: $n natd.conf drop-ins: $(cd "$ROOT" && find etc/systemd/network -name natd.conf)"
    check_registry "/$SYSCTL_REL" "/$dropin"
    ctl_status 0
    st=$($SJ expect state='"ready"' private.name="\"$new\"" nftables.verified=true <<<"$CTL_OUT" 2>&1) ||
        fail "round $round: $st"$'\n'"$CTL_OUT"
    pass "round $round: $old -> $new: $out; $routes; drop-in $dropin (the one for $old gone); status ready on $new"
    check_egress " (round $round, on $new)"
done

info "altname -> natd's table and routes on the new name, $REATTACH_ROUNDS rounds:"
info "  table:  $(stats_ms "${table_ms[@]}") ms"
info "  routes: $(stats_ms "${routes_ms[@]}") ms"
info "  both:   $(stats_ms "${both_us[@]}") ms (limit $REATTACH_LIMIT_MS ms each)"
timing "altname -> table and routes on the new name, max over $REATTACH_ROUNDS rounds" "$(us_ms "$(rank_us 1 "${both_us[@]}")")"
check_inbound_blocked
check_nat_state
