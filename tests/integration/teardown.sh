#!/usr/bin/env bash
# natd's teardown removes natd's things and nothing else. In the simulated
# VPC (no networkd, natd on a private system bus), with natd ready and, next
# to natd's, things of other programs:
#   - a table inet other with a chain and a rule,
#   - a route 10.9.0.0/24 via 203.0.113.1,
#   - a file in natd's drop-in directory natd did not write
#     (70-ens6.network.d/50-mtu.conf), a natd.conf natd did not write in
#     another drop-in directory (70-ens5.network.d/natd.conf), another
#     sysctl.d file, another program's state in var/lib,
# A. natd is stopped (SIGTERM), then `natd --teardown --root ROOT` exits 0;
# B. natd is started again (READY=1, everything of natd's back), then
#    `natd-ctl teardown` (natd on the bus) exits 0 and natd exits 0;
# C. (before B's teardown) with natd running, `natd --teardown` is refused
#    (exit 1, "natd is running") and changes nothing: natd stays ready with
#    all its things and files in status; a second natd on the same root
#    exits 1 at once naming the lock;
# and after A and B: no table ip natd, no route of natd's (10.0.2.0/24,
# 10.0.3.0/24), natd's drop-in, sysctl.d file and ROOT/var/lib/natd gone;
# the other table (identical, handles included), every other route, the
# other files (byte for byte), natd's configuration and net.ipv4.ip_forward
# untouched; natd-ctl status (natd gone) shows no table and no files. A
# second `natd --teardown` finds nothing to do and exits 0.
# (teardown-crash.sh: the teardown after a crash left temporary files.)
# Usage: teardown.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.teardown "$@"
drift_vpc
drift_ready
check_egress " (natd ready)"

DROPIN_DIR=$(dropin_dir "$PRIV_DEV")
DROPIN=$DROPIN_DIR/natd.conf
OTHER_FILES=(
    "$DROPIN_DIR/50-mtu.conf"
    "$(dropin_dir "$PUB_DEV")/natd.conf"
    etc/sysctl.d/99-other.conf
    var/lib/other/state
    etc/natd/natd.conf
)
nft_ns() {
    ip netns exec "$NS_NAT" nft "$@"
}

# Another program's table, route and files.
nft_ns add table inet other
nft_ns add chain inet other input '{ type filter hook input priority 0; policy accept; }'
nft_ns add rule inet other input tcp dport 22 counter accept
ip -n "$NS_NAT" route add 10.9.0.0/24 via "$INET_IP"
mkdir -p "$ROOT/$(dropin_dir "$PUB_DEV")" "$ROOT/var/lib/other"
printf '# not natd'"'"'s\n[Link]\nMTUBytes=9001\n' >"$ROOT/${OTHER_FILES[0]}"
printf '# not natd'"'"'s, despite the name\n[Network]\nIPv6AcceptRA=no\n' >"$ROOT/${OTHER_FILES[1]}"
printf 'net.core.somaxconn = 4096\n' >"$ROOT/${OTHER_FILES[2]}"
printf 'another program state\n' >"$ROOT/${OTHER_FILES[3]}"
info "another program's things: table inet other (chain input, rule tcp dport 22 accept), route 10.9.0.0/24 via $INET_IP, files ${OTHER_FILES[*]}"

# snapshot: everything teardown must leave as it is.
snapshot() {
    echo "## tables but natd's"
    nft_ns list tables | grep -vx 'table ip natd'
    echo "## table inet other"
    nft_ns -a list table inet other | sed -E 's/packets [0-9]+ bytes [0-9]+/packets - bytes -/'
    echo "## routes but natd's"
    ip -n "$NS_NAT" -4 route show table all | grep -v " proto 213" | sort
    echo "## files"
    (cd "$ROOT" && sha256sum "${OTHER_FILES[@]}")
    (cd "$ROOT" && find etc var -type d | sort | grep -v "^var/lib/natd\$")
    echo "## ip_forward $(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward)"
}

# check_torn_down WHAT BEFORE: natd's things gone, the rest as in BEFORE.
check_torn_down() {
    local what=$1 before=$2 after out
    out=$(nft_ns list table ip natd 2>&1) && fail "$what: table ip natd is still there:"$'\n'"$out"
    out=$(ip -n "$NS_NAT" -4 route show table all | grep -E '^10\.0\.[23]\.0/24|proto 213' || true)
    [[ -z $out ]] || fail "$what: natd's routes are still there:"$'\n'"$out"
    [[ ! -e $ROOT/$DROPIN ]] || fail "$what: natd's drop-in $DROPIN is still there"
    [[ ! -e $ROOT/$SYSCTL_REL ]] || fail "$what: natd's $SYSCTL_REL is still there"
    [[ ! -e $ROOT/var/lib/natd ]] || fail "$what: ROOT/var/lib/natd is still there: $(ls -A "$ROOT/var/lib/natd")"
    pass "$what: table ip natd, natd's routes, $DROPIN, $SYSCTL_REL and var/lib/natd are gone"
    after=$(snapshot)
    [[ $after == "$before" ]] ||
        fail "$what: teardown changed things that are not natd's:"$'\n'"$(diff <(echo "$before") <(echo "$after"))"
    pass "$what: table inet other, route 10.9.0.0/24 and every other route, ${#OTHER_FILES[@]} other files (the drop-in directory with 50-mtu.conf kept), ip_forward: unchanged"
    natd_ctl --root "$ROOT" status --json
    ((CTL_RC == 3)) || fail "$what: natd-ctl status exited $CTL_RC, expected 3 (natd not running)"
    out=$($SJ expect reachable=false nftables.present=false files='[]' <<<"$CTL_OUT" 2>&1) ||
        fail "$what: natd-ctl status after teardown: $out"$'\n'"$CTL_OUT"
    pass "$what: natd-ctl status: unreachable, no table, no files"
}

# --- A. natd stopped, natd --teardown ------------------------------------------------
natd_ctl_expect 0 "before teardown" status --json
info "natd's files: $(sj_get files)"
[[ -f $ROOT/$DROPIN && -f $ROOT/$SYSCTL_REL && -f $ROOT/var/lib/natd/files ]] ||
    fail "natd's files are not all there before the teardown"
before=$(snapshot)
natd_stop
rc=0
now_ms t0
ip netns exec "$NS_NAT" "$NATD" --teardown --root "$ROOT" >"$T/teardown.out" 2>&1 || rc=$?
now_ms t1
((rc == 0)) || fail "A. natd --teardown --root ROOT exited $rc:"$'\n'"$(cat "$T/teardown.out")"
timing "A. natd --teardown" $((t1 - t0))
info "A. natd --teardown said:"
sed 's/^/    /' "$T/teardown.out"
check_torn_down "A. natd --teardown" "$before"

rc=0
ip netns exec "$NS_NAT" "$NATD" --teardown --root "$ROOT" >"$T/teardown2.out" 2>&1 || rc=$?
((rc == 0)) || fail "A. a second natd --teardown exited $rc:"$'\n'"$(cat "$T/teardown2.out")"
[[ $(snapshot) == "$before" ]] || fail "A. a second natd --teardown changed something"
pass "A. a second natd --teardown exits 0 and changes nothing ($(tail -n 1 "$T/teardown2.out" | sed 's/^[0-9-]* [0-9:.]* //'))"

# --- B. natd running, natd-ctl teardown ----------------------------------------------
natd_start
natd_wait_ready
[[ -f $ROOT/$DROPIN && -f $ROOT/$SYSCTL_REL && -f $ROOT/var/lib/natd/files ]] ||
    fail "B. natd did not write its files again after the teardown"
out=$(one_table && natd_routes_on "$PRIV_DEV") || fail "B. natd is back, but: $out"
check_egress " (B. natd back)"
before=$(snapshot)

# --- C. natd running: natd --teardown refused, a second natd too -----------------------
natd_ctl_expect 0 "C. before natd --teardown beside the running natd" status --json
files_before=$(sj_get files)
rc=0
ip netns exec "$NS_NAT" "$NATD" --teardown --root "$ROOT" >"$T/teardown-running.out" 2>&1 || rc=$?
((rc == 1)) || fail "C. natd --teardown beside a running natd exited $rc, expected 1:"$'\n'"$(cat "$T/teardown-running.out")"
grep -q "Not tearing down: natd is running (it holds $ROOT/var/lib/natd/lock): stop it first" "$T/teardown-running.out" ||
    fail "C. natd --teardown beside a running natd did not say why it refused:"$'\n'"$(cat "$T/teardown-running.out")"
[[ $(snapshot) == "$before" ]] || fail "C. the refused natd --teardown changed something"
out=$(one_table && natd_routes_on "$PRIV_DEV") || fail "C. after the refused natd --teardown: $out"
[[ -f $ROOT/$DROPIN && -f $ROOT/$SYSCTL_REL && -f $ROOT/var/lib/natd/files ]] ||
    fail "C. natd's files are not all there after the refused natd --teardown"
natd_ctl_expect 0 "C. after the refused natd --teardown" status --json
[[ $(sj_get state) == ready && $(sj_get files) == "$files_before" ]] ||
    fail "C. after the refused natd --teardown: state $(sj_get state), files $(sj_get files) (were $files_before)"
pass "C. natd --teardown beside the running natd: exit 1, '$(grep -o 'natd is running.*' "$T/teardown-running.out" | head -n 1)'; nothing changed, natd ready, files $files_before"
rc=0
timeout 10 ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" >"$T/second.out" 2>&1 || rc=$?
((rc == 1)) || fail "C. a second natd on the same root exited $rc, expected 1:"$'\n'"$(cat "$T/second.out")"
grep -q "natd is running (it holds $ROOT/var/lib/natd/lock)" "$T/second.out" ||
    fail "C. a second natd did not name the lock:"$'\n'"$(cat "$T/second.out")"
natd_alive || fail "C. the first natd is gone after a second one was refused"
pass "C. a second natd on the same root: exit 1 at once, naming the lock; the first one runs on"

mon_start
natd_ctl teardown
((CTL_RC == 0)) || fail "B. natd-ctl teardown exited $CTL_RC: $CTL_OUT $CTL_ERR"
timing "B. natd-ctl teardown (call)" "$CTL_MS"
info "B. natd-ctl teardown: $CTL_OUT"
wait_exit "$NATD_PID" 10 || fail "B. natd did not exit within 10s of natd-ctl teardown"
NATD_PID_GONE=$NATD_PID
NATD_PID=
natd_forget_notify
((EXIT_RC == 0)) || fail "B. natd exited with status $EXIT_RC after natd-ctl teardown, expected 0"
pass "B. natd-ctl teardown exited 0, natd exited 0"
grep -E 'Tearing down|Removed' "$T/natd.log" | tail -n 6 | sed 's/^/    /'
check_torn_down "B. natd-ctl teardown" "$before"
mon_drain
out=$(grep -E "^[0-9]+ nft $NATD_PID_GONE " "$MON_LOG" | tr ' ' '\n' | grep -E '^[A-Z]+:' | grep -v ':ip:natd' || true)
[[ -z $out ]] || fail "B. natd's nftables transactions during the teardown touched other tables: $(sort -u <<<"$out" | tr '\n' ' ')"
out=$(grep -E "^[0-9]+ nft $NATD_PID_GONE .*NEWTABLE:ip:natd" "$MON_LOG" || true)
[[ -z $out ]] || fail "B. natd re-created its table during the teardown: $out"
pass "B. natd's only nftables change was the deletion of table ip natd"

