#!/usr/bin/env bash
# natd follows a rename of the private ENI at runtime. With natd ready in the
# simulated VPC (no networkd, natd on a private system bus), the private ENI
# is renamed the way an operator (or udev) does it:
#   ip link set ens6 down; ip link set ens6 name ens9; ip link set ens9 up
# (its altname device-number-1.0 stays). Then natd's table names ens9 and
# no longer ens6, the return routes are "via 10.0.1.1 dev ens9 onlink"
# (natd's own, proto 213), natd's drop-in is the one for ens9
# (70-ens9.network.d/natd.conf, the one for ens6 removed), natd-ctl status
# says ready on ens9, and the private hosts reach the internet through the
# NAT. Prints the time from the rename to natd's table for the new name, and
# from the link coming up to natd's routes on it (the kernel refuses routes
# on a link that is down), from netlink event stamps, and asserts each is
# under $RENAME_LIMIT_MS ms. Then renames it back, and checks the same for
# ens6.
# Usage: rename.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

RENAME_LIMIT_MS=${RENAME_LIMIT_MS:-1000}
NEW_DEV=ens9

drift_init integration.rename "$@"
drift_vpc
drift_ready
check_egress " (before the rename)"
mon_start
IFX=$(ifindex_of "$PRIV_DEV")

# rename FROM TO: rename the private ENI at runtime and check natd follows.
rename() {
    local from=$1 to=$2 out dropin old_dropin
    mon_drain
    ip -n "$NS_NAT" link set "$from" down
    ip -n "$NS_NAT" link set "$from" name "$to"
    ip -n "$NS_NAT" link set "$to" up
    info "renamed the private ENI: $from -> $to (down, rename, up)"
    # The rename itself (the link is still down), then natd's table for $to,
    # the link up, and both return routes on it.
    mon_must 5 "^[0-9]+ link new $IFX $to down " "$from -> $to: the rename"
    local t_rename=$MON_US
    if ! mon_all 10 "^[0-9]+ nft $NATD_PID natd .*NEWTABLE:ip:natd( |$)" \
        "^[0-9]+ link new $IFX $to up altnames=device-number-1\.0$" \
        "^[0-9]+ route add 10\.0\.2\.0/24 dev $IFX proto $NATD_PROTO " \
        "^[0-9]+ route add 10\.0\.3\.0/24 dev $IFX proto $NATD_PROTO "; then
        fail "$from -> $to: within 10s of the rename, natd did not (re)install: $MON_MISSING"$'\n'"natd's log:"$'\n'"$(tail -n 15 "$T/natd.log")"
    fi
    local t_table=${MON_STAMPS[0]} t_up=${MON_STAMPS[1]}
    local t_routes=$((MON_STAMPS[2] > MON_STAMPS[3] ? MON_STAMPS[2] : MON_STAMPS[3]))
    local table_us=$((t_table - t_rename)) routes_us=$((t_routes - t_up))
    timing "$from -> $to: renamed -> natd's table on $to" "$(us_ms "$table_us")"
    timing "$from -> $to: $to up -> natd's routes on $to" "$(us_ms "$routes_us")"
    ((table_us < RENAME_LIMIT_MS * 1000)) ||
        fail "$from -> $to: natd's table for $to came $(us_ms "$table_us") ms after the rename, limit $RENAME_LIMIT_MS ms"
    ((routes_us < RENAME_LIMIT_MS * 1000)) ||
        fail "$from -> $to: natd's routes on $to came $(us_ms "$routes_us") ms after $to came up, limit $RENAME_LIMIT_MS ms"
    out=$(table_on "$to") || fail "$from -> $to: $out"$'\n'"$(ip netns exec "$NS_NAT" nft list table ip natd)"
    pass "$from -> $to: $out"
    out=$(natd_routes_on "$to") || fail "$from -> $to: $out"
    pass "$from -> $to: routes $out"
    ctl_status 0
    out=$($SJ expect state='"ready"' private.name="\"$to\"" nftables.verified=true forwarding=true <<<"$CTL_OUT" 2>&1) ||
        fail "$from -> $to: $out"$'\n'"$CTL_OUT"
    pass "$from -> $to: natd-ctl status: ready, private $(sj_get private.name), $(sj_get status)"
    dropin=$(dropin_dir "$to")/natd.conf
    old_dropin=$(dropin_dir "$from")/natd.conf
    check_dropin "$dropin"
    [[ ! -e $ROOT/$old_dropin ]] || fail "$from -> $to: the drop-in for $from is still there: $old_dropin"
    [[ ! -e $ROOT/$(dirname "$old_dropin") ]] ||
        fail "$from -> $to: natd's empty drop-in directory for $from is still there: $(dirname "$old_dropin")"
    check_registry "/$SYSCTL_REL" "/$dropin"
    pass "$from -> $to: natd's drop-in is $dropin, the one for $from is gone"
    PRIV_DEV=$to  # for lib.sh's checks
    check_egress " (after $from -> $to)"
    check_nat_state
}

rename "$PRIV_DEV" "$NEW_DEV"
rename "$NEW_DEV" ens6
check_inbound_blocked
info "natd's log during the renames:"
grep -E 'Configuring|Ready|Found|Removed|Wrote|Waiting|Verification|Could not|error' "$T/natd.log" | tail -n 20 | sed 's/^/    /'
