#!/usr/bin/env bash
# natd repairs drift: with natd ready in the simulated VPC (no networkd,
# natd on a private system bus), something undoes part of the NAT, again and
# again ($DRIFT_TRIALS times per case):
#   table     nft delete table ip natd
#   flush     nft flush ruleset
#   rule      nft flush chain ip natd postrouting (the masquerade rules gone, one per source CIDR)
#   insert    nft insert rule ip natd forward counter drop (a rule added)
#   route     ip route del 10.0.2.0/24 (a return route)
#   forward   sysctl -w net.ipv4.ip_forward=0
#   ifforward sysctl -w net.ipv4.conf.ens6.forwarding=0 (the private ENI's own)
#   pubforward sysctl -w net.ipv4.conf.ens5.forwarding=0 (the public ENI's own)
#   dormant   nft add table ip natd '{ flags dormant; }'
# Each time natd must put it back (the table in one transaction, by natd's
# own process), the private hosts must reach the internet through the NAT
# again, and natd-ctl status must count the repair. The time from the undo to
# the repair is taken from netlink event stamps (drift-monitor.py): p50, p99
# and max per case are printed, and p99 must stay under
# $DRIFT_P99_LIMIT_MS ms.
#
# natd stops repairing a part that is undone more than 20 times within 60 s
# (fight.sh tests that). table, flush, rule and insert all undo the ruleset:
# natd must repair 20 of them within a minute (the limit is "more than 20":
# with the default 10 trials, table and flush make 20); before more, natd is
# restarted. forward, ifforward and pubforward all undo forwarding: natd is
# restarted between them for the same reason.
# Usage: drift.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

TRIALS=${DRIFT_TRIALS:-10}
P99_LIMIT_MS=${DRIFT_P99_LIMIT_MS:-100}
REPAIR_TIMEOUT=5  # seconds for one repair to show up at all
GUARD_LIMIT=20    # natd's undos per part and minute before it stops repairing

drift_init integration.drift "$@"
((TRIALS >= 8)) || fail "DRIFT_TRIALS=$TRIALS: at least 8 trials per case"
drift_vpc
drift_ready
check_egress " (before any drift)"
mon_start
IFX=$(ifindex_of "$PRIV_DEV")
declare -A UNDOS=()  # part -> undos natd repaired since it started
SUMMARY=()

# restored_NAME (table, flush, route, forward): the kernel state a
# repair must leave (after the repair event), for the trial's message.
restored_table() {
    one_table && table_on "$PRIV_DEV"
}
restored_flush() {
    restored_table
}
restored_rule() {
    restored_table
}
restored_insert() {
    restored_table
}
restored_route() {
    natd_routes_on "$PRIV_DEV"
}
restored_dormant() {
    local flags
    flags=$(ip netns exec "$NS_NAT" nft -j list table ip natd |
        $PY -c 'import json,sys; print(",".join(json.load(sys.stdin)["nftables"][1]["table"].get("flags", [])) or "-")')
    [[ $flags != *dormant* ]] || { echo "table ip natd still has flags $flags"; return 1; }
    restored_table
}
# sysctl_is KEY...: each KEY is 1 in the NAT instance.
sysctl_is() {
    local key v
    for key in "$@"; do
        v=$(ip netns exec "$NS_NAT" sysctl -n "$key")
        [[ $v == 1 ]] || { echo "$key is $v"; return 1; }
    done
    echo "$* = 1"
}
restored_forward() {
    sysctl_is net.ipv4.ip_forward
}
restored_ifforward() {
    sysctl_is "net.ipv4.conf.$PRIV_DEV.forwarding"
}
restored_pubforward() {
    sysctl_is "net.ipv4.conf.$PUB_DEV.forwarding"
}

# run_case NAME PART UNDO-ERE RESTORE-ERE COMMAND...: TRIALS times COMMAND in
# the NAT instance, the undo event, natd's repair event, the kernel state,
# the NAT.
run_case() {
    local name=$1 part=$2 undo_re=$3 restore_re=$4
    shift 4
    local i t0 out deltas=() r0 r1 found0 found1 stats p99
    if ((${UNDOS[$part]:-0} + TRIALS > GUARD_LIMIT)); then
        info "$name: natd has repaired its $part ${UNDOS[$part]} times since it started; restarting natd so that $TRIALS more stay under natd's limit of $GUARD_LIMIT a minute"
        natd_stop
        natd_start
        natd_wait_ready
        UNDOS=()
    fi
    restore_re=${restore_re//PID/$NATD_PID}
    ctl_status 0
    r0=$(sj_get repairs)
    found0=$(grep -c 'Found .*; restored' "$T/natd.log" || true)
    for ((i = 1; i <= TRIALS; i++)); do
        mon_drain
        ip netns exec "$NS_NAT" "$@" >/dev/null 2>"$T/undo.err" ||
            fail "$name, trial $i: '$*' failed: $(cat "$T/undo.err")"
        mon_must "$REPAIR_TIMEOUT" "$undo_re" "$name, trial $i ('$*')"
        t0=$MON_US
        mon_must "$REPAIR_TIMEOUT" "$restore_re" "$name, trial $i: natd did not repair after '$*'"
        deltas+=($((MON_US - t0)))
        out=$("restored_$name" 2>&1) || fail "$name, trial $i: after natd's repair event: $out"
        UNDOS[$part]=$((${UNDOS[$part]:-0} + 1))
        info "$name, trial $i: '$*' -> repaired in $(us_ms "${deltas[-1]}") ms ($out)"
        check_egress " ($name, trial $i)"
    done
    ctl_status 0
    r1=$(sj_get repairs)
    out=$($SJ expect state='"ready"' nftables.verified=true forwarding=true <<<"$CTL_OUT" 2>&1) ||
        fail "$name: after $TRIALS repairs: $out"$'\n'"$CTL_OUT"
    found1=$(grep -c 'Found .*; restored' "$T/natd.log" || true)
    ((r1 - r0 == TRIALS)) ||
        fail "$name: natd-ctl status counts repairs $r0 -> $r1 after $TRIALS undos, each repaired once"
    ((found1 - found0 == TRIALS)) ||
        fail "$name: natd logged $((found1 - found0)) 'Found ...; restored ...' lines for $TRIALS repairs"
    stats=$(stats_ms "${deltas[@]}")
    p99=$(rank_us 0.99 "${deltas[@]}")
    SUMMARY+=("$name ('$*'): $stats ms; repairs $r0 -> $r1")
    timing "$name: undo -> repaired, p50" "$(us_ms "$(rank_us 0.5 "${deltas[@]}")")"
    timing "$name: undo -> repaired, p99" "$(us_ms "$p99")"
    timing "$name: undo -> repaired, max" "$(us_ms "$(rank_us 1 "${deltas[@]}")")"
    ((p99 < P99_LIMIT_MS * 1000)) ||
        fail "$name: p99 of undo -> repaired is $((p99 / 1000)) ms, limit $P99_LIMIT_MS ms ($stats)"
    pass "$name: $TRIALS undos by '$*', each repaired (p99 $(us_ms "$p99") ms < $P99_LIMIT_MS ms; $stats ms), NAT working after each, repairs $r0 -> $r1, log: $(grep 'Found .*; restored' "$T/natd.log" | tail -n 1 | sed 's/.*\(Found\)/\1/')"
}

run_case table ruleset \
    "^[0-9]+ nft [0-9]+ nft .*DELTABLE:ip:natd( |$)" \
    "^[0-9]+ nft PID natd .*NEWTABLE:ip:natd( |$)" \
    nft delete table ip natd
run_case flush ruleset \
    "^[0-9]+ nft [0-9]+ nft .*DELTABLE:ip:natd( |$)" \
    "^[0-9]+ nft PID natd .*NEWTABLE:ip:natd( |$)" \
    nft flush ruleset
run_case rule ruleset \
    "^[0-9]+ nft [0-9]+ nft DELRULE:ip:natd:postrouting( DELRULE:ip:natd:postrouting)*$" \
    "^[0-9]+ nft PID natd .*NEWTABLE:ip:natd( |$)" \
    nft flush chain ip natd postrouting
run_case insert ruleset \
    "^[0-9]+ nft [0-9]+ nft NEWRULE:ip:natd:forward$" \
    "^[0-9]+ nft PID natd .*NEWTABLE:ip:natd( |$)" \
    nft insert rule ip natd forward counter drop
run_case route routes \
    "^[0-9]+ route del 10\.0\.2\.0/24 dev $IFX proto $NATD_PROTO " \
    "^[0-9]+ route add 10\.0\.2\.0/24 dev $IFX proto $NATD_PROTO " \
    ip route del 10.0.2.0/24
run_case forward forwarding \
    "^[0-9]+ forwarding 0$" \
    "^[0-9]+ forwarding 1$" \
    sysctl -w net.ipv4.ip_forward=0
run_case ifforward forwarding \
    "^[0-9]+ ifforwarding $IFX 0$" \
    "^[0-9]+ ifforwarding $IFX 1$" \
    sysctl -w "net.ipv4.conf.$PRIV_DEV.forwarding=0"
run_case pubforward forwarding \
    "^[0-9]+ ifforwarding $(ifindex_of "$PUB_DEV") 0$" \
    "^[0-9]+ ifforwarding $(ifindex_of "$PUB_DEV") 1$" \
    sysctl -w "net.ipv4.conf.$PUB_DEV.forwarding=0"
run_case dormant ruleset \
    "^[0-9]+ nft [0-9]+ nft NEWTABLE:ip:natd$" \
    "^[0-9]+ nft PID natd .*NEWTABLE:ip:natd( |$)" \
    nft add table ip natd '{ flags dormant; }'
info "undo -> repaired ($TRIALS trials each; from netlink event stamps):"
for s in "${SUMMARY[@]}"; do info "  $s"; done
check_inbound_blocked
check_nat_state
