#!/usr/bin/env bash
# Ten restarts of natd in a row (SIGTERM, start, READY=1) next to
# systemd-networkd: natd's files are not rewritten (same inode, same mtime),
# the return routes are never removed, and afterwards there is exactly one
# drop-in, one sysctl.d file, one table ip natd and one route per
# destination, and the NAT works. Prints the time from start to READY=1 of
# each restart.
# Usage: restarts.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/networkd-lib.sh
source "$(dirname "$0")/networkd-lib.sh"

RESTARTS=${RESTARTS:-10}

nd_init integration.restarts "$@"
vpc_create card
write_test_config

boot_with_networkd "first start"

dropin=etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf
sysctl_file=etc/sysctl.d/90-natd.conf
# stamp FILE: inode and modification time (a rewrite by rename changes both).
stamp() { stat -c '%i %y' "$ROOT/$1"; }
dropin_stamp=$(stamp "$dropin")
sysctl_stamp=$(stamp "$sysctl_file")
registry_stamp=$(stamp var/lib/natd/files)
log_line=$(($(wc -l <"$T/natd.log") + 1))

# Every route change from here on: natd's restarts must cause none.
monitor_start "$T/restart-route-events.log" route

ready_times=()
for ((i = 1; i <= RESTARTS; i++)); do
    natd_stop
    natd_start
    natd_wait_ready
    ready_times+=($((READY_MS - NATD_START_MS)))
    timing "restart $i: natd started -> READY=1" "${ready_times[-1]}"
done

monitor_stop "$T/restart-route-events.log"
tail -n +"$log_line" "$T/natd.log" >"$T/natd-restarts.log"
sorted=$(printf '%s\n' "${ready_times[@]}" | sort -n)
info "start -> READY=1 over $RESTARTS restarts: min $(head -n 1 <<<"$sorted") ms," \
    "median $(sed -n "$(((RESTARTS + 1) / 2))p" <<<"$sorted") ms, max $(tail -n 1 <<<"$sorted") ms"

# --- afterwards ----------------------------------------------------------------
n=$(find "$ROOT/etc/systemd/network" -name natd.conf | wc -l)
((n == 1)) || fail "$n natd.conf drop-ins under etc/systemd/network, expected 1: $(find "$ROOT/etc/systemd/network" -name natd.conf)"
pass "exactly one drop-in: $dropin"
n=$(find "$ROOT/etc/sysctl.d" -type f | wc -l)
((n == 1)) || fail "$n files in etc/sysctl.d, expected 1 (90-natd.conf): $(ls -A "$ROOT/etc/sysctl.d")"
pass "exactly one sysctl.d file: $sysctl_file"
check_registry "/$sysctl_file" "/$dropin"
n=$(ip netns exec "$NS_NAT" nft list tables | grep -cx 'table ip natd' || true)
((n == 1)) || fail "$n 'table ip natd' in the NAT instance, expected 1: $(ip netns exec "$NS_NAT" nft list tables)"
pass "exactly one table ip natd ($(ip netns exec "$NS_NAT" nft list tables | wc -l) tables in all)"
out=$(routes_as static) || fail "after $RESTARTS restarts: $out"
pass "one route per destination, networkd's: $out"

[[ $(stamp "$dropin") == "$dropin_stamp" ]] ||
    fail "natd rewrote $dropin although its content did not change ($dropin_stamp -> $(stamp "$dropin"))"
[[ $(stamp "$sysctl_file") == "$sysctl_stamp" ]] ||
    fail "natd rewrote $sysctl_file although its content did not change"
[[ $(stamp var/lib/natd/files) == "$registry_stamp" ]] ||
    fail "natd rewrote /var/lib/natd/files although the set of files did not change"
if grep -E 'Wrote|Removed' "$T/natd-restarts.log"; then
    fail "natd's log reports file changes during the restarts (above)"
fi
pass "$RESTARTS restarts rewrote no file (drop-in, sysctl.d file and record: same inode and mtime)"
# Drop-in unchanged, networkd's routes in place: nothing to ask networkd.
check_networkd_calls "$T/natd-restarts.log" "$RESTARTS restarts" 0
events=$(grep -cE "(^|\] )(Deleted )?(${RETURN_NETS//,/|}) " "$T/restart-route-events.log" || true)
((events == 0)) || fail "the return routes changed during the restarts:"$'\n'"$(cat "$T/restart-route-events.log")"
pass "the return routes did not change once during the restarts"
if grep -E ' (error|warning): ' "$T/natd-restarts.log"; then
    fail "natd logged errors or warnings during the restarts (above)"
fi

check_egress " (after $RESTARTS restarts)"
check_nat_state
check_sigterm
