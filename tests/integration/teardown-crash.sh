#!/usr/bin/env bash
# natd's teardown after a crash. natd writes each file as a temporary
# ".NAME.natd-<hex>" that it renames over NAME; SIGKILLed in between, it
# leaves the temporary file behind (sigkill.sh sees it happen). Here, in the
# simulated VPC (no networkd, natd on a private system bus), natd is made
# ready, SIGKILLed, and the temporary files such a SIGKILL leaves are put
# next to its record (var/lib/natd/.files.natd-...) and its drop-in
# (70-ens6.network.d/.natd.conf.natd-...). Then `natd --teardown --root ROOT`
# must exit 0 and leave nothing of natd's: no table ip natd, no route of
# natd's, no file of natd's under --root (temporary ones included), no
# ROOT/var/lib/natd, and no drop-in directory natd created (it held only
# natd's files); natd's configuration stays.
# Usage: teardown-crash.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.teardown-crash "$@"
drift_vpc
drift_ready
DROPIN_DIR=$(dropin_dir "$PRIV_DEV")
kill -KILL "$NATD_PID"
wait "$NATD_PID" 2>/dev/null || true
NATD_PID=
natd_forget_notify
leftovers=(var/lib/natd/.files.natd-5eed0123c0ffee42 "$DROPIN_DIR/.natd.conf.natd-5eed0123c0ffee42")
cp "$ROOT/var/lib/natd/files" "$ROOT/${leftovers[0]}"
cp "$ROOT/$DROPIN_DIR/natd.conf" "$ROOT/${leftovers[1]}"
info "natd SIGKILLed; its temporary files as a SIGKILL in the middle of a write leaves them: ${leftovers[*]}"
conf_sum=$(sha256sum <"$ROOT/etc/natd/natd.conf")

rc=0
ip netns exec "$NS_NAT" "$NATD" --teardown --root "$ROOT" >"$T/teardown.out" 2>&1 || rc=$?
info "natd --teardown said:"
sed 's/^/    /' "$T/teardown.out"
((rc == 0)) || fail "natd --teardown exited $rc"
out=$(ip netns exec "$NS_NAT" nft list table ip natd 2>&1) && fail "table ip natd is still there:"$'\n'"$out"
out=$(ip -n "$NS_NAT" -4 route show table all | grep -E '^10\.0\.[23]\.0/24|proto 213' || true)
[[ -z $out ]] || fail "natd's routes are still there:"$'\n'"$out"
pass "table ip natd and natd's routes are gone"
[[ $(sha256sum <"$ROOT/etc/natd/natd.conf") == "$conf_sum" ]] || fail "natd's configuration changed"
left=$(cd "$ROOT" && find . -path ./etc/natd -prune -o -path ./run -prune -o -type f -print | sed 's|^\./||' | sort)
[[ -z $left ]] ||
    fail "natd --teardown exited 0 ('$(tail -n 1 "$T/teardown.out" | sed 's/^[0-9-]* [0-9:.]* //')') but left natd's files under --root: $(tr '\n' ' ' <<<"$left")"
[[ ! -e $ROOT/var/lib/natd ]] || fail "ROOT/var/lib/natd is still there"
[[ ! -e $ROOT/$DROPIN_DIR ]] || fail "natd's drop-in directory $DROPIN_DIR is still there"
pass "no file of natd's left under --root, var/lib/natd and $DROPIN_DIR gone, natd's configuration unchanged"
