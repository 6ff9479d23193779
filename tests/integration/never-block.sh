#!/usr/bin/env bash
# natd never blocks on a file someone put in its way. A FIFO as natd.conf or
# as a drop-in, a symlink loop or a dangling symlink in natd.conf.d: natd
# --check-config and natd itself exit 2 at once with "FILE: message" (before,
# natd hung in open() on the FIFO, deaf to SIGTERM). A FIFO (and an oversized
# file) among networkd's link state files while natd runs ready: natd logs
# the error naming the file, once, keeps the NAT working, answers SIGHUP and
# ends promptly on SIGTERM.
# Usage: never-block.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/networkd-lib.sh
source "$(dirname "$0")/networkd-lib.sh"

nd_init integration.never-block "$@"
# (nd_init pointed DBUS_SYSTEM_BUS_ADDRESS at a socket that does not exist.)
ENI_STEP_DELAY=0
vpc_create card

BOUND=5  # seconds: a configuration error is reported at once; more is a hang
SLOWEST=0
CONF=etc/natd/natd.conf

# run_bounded LABEL ARGS...: natd ARGS in the NAT instance under timeout;
# sets RC, ERR (stderr) and MS.
run_bounded() {
    local label=$1 t0 t1
    shift
    now_ms t0
    RC=0
    timeout -s KILL "$BOUND" ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" "$@" \
        </dev/null >"$T/out" 2>"$T/err" || RC=$?
    now_ms t1
    MS=$((t1 - t0))
    ERR=$(<"$T/err")
    ((RC != 137)) || fail "$label: natd $* still ran after ${BOUND}s: it blocked (stderr: $ERR)"
}

# refused NAME MESSAGE: both natd --check-config and natd exit 2 within
# BOUND, and stderr has MESSAGE ("FILE: message").
refused() {
    local name=$1 message=$2 mode
    for mode in --check-config daemon; do
        local args=()
        [[ $mode == daemon ]] || args=("$mode")
        run_bounded "$name ($mode)" "${args[@]}"
        ((RC == 2)) || fail "$name ($mode): natd exited with status $RC, expected 2; stderr: $ERR"
        grep -qxF "$message" <<<"$ERR" || fail "$name ($mode): stderr lacks the line '$message': $ERR"
        ((MS > SLOWEST)) && SLOWEST=$MS
        info "$name ($mode): exit 2 in $MS ms"
    done
    pass "$name: natd --check-config and natd exit 2 at once with: $message"
}

fresh_root() {
    rm -rf "$ROOT"
    mkdir -p "$ROOT/etc/natd/natd.conf.d"
}

# --- the configuration -------------------------------------------------------

fresh_root
mkfifo "$ROOT/$CONF"
refused "a FIFO as natd.conf" "$ROOT/$CONF: not a regular file (FIFO)"

fresh_root
write_test_config
mkfifo "$ROOT/$CONF.d/50-fifo.conf"
refused "a FIFO as a drop-in" "$ROOT/$CONF.d/50-fifo.conf: not a regular file (FIFO)"

fresh_root
write_test_config
ln -s loop.conf "$ROOT/$CONF.d/loop.conf"
refused "a symlink loop in natd.conf.d" "$ROOT/$CONF.d/loop.conf: Too many levels of symbolic links"

fresh_root
write_test_config
ln -s /nowhere.conf "$ROOT/$CONF.d/dangling.conf"
refused "a dangling symlink in natd.conf.d" "$ROOT/$CONF.d/dangling.conf: No such file or directory"

timing "unreadable configuration -> exit 2 (slowest case)" "$SLOWEST"

# A symlink to a real file is fine, as in systemd: the control.
fresh_root
write_test_config
mv "$ROOT/$CONF" "$T/vpc.conf"
ln -s "$T/vpc.conf" "$ROOT/$CONF"
run_bounded "a symlinked natd.conf" --check-config
((RC == 0)) || fail "natd --check-config refused a natd.conf that is a symlink to a valid file: $ERR"
pass "control: natd.conf as a symlink to a valid file passes --check-config ($MS ms)"

# --- networkd's link state while natd runs -----------------------------------

fresh_root
write_test_config
LINKS=$ROOT/run/systemd/netif/links
mkdir -p "$LINKS"
natd_start
natd_settle "the private ENI"
eni_plug
eni_name card
natd_wait_ready

# By rename, as networkd writes its state files: natd's inotify watch sees it.
ifindex=$(ip -n "$NS_NAT" -o link show dev "$PRIV_DEV" | cut -d: -f1)
mkfifo "$LINKS/.fifo"
mv "$LINKS/.fifo" "$LINKS/$ifindex"
now_ms t0
fifo_error="Cannot use networkd's link state: $LINKS/$ifindex: not a regular file (FIFO)"
wait_until 5 grep -qF "$fifo_error" "$T/natd.log" ||
    fail "natd did not log '$fifo_error' within 5 s of the FIFO appearing"
now_ms t1
natd_alive || fail "natd exited after the FIFO appeared in $LINKS"
timing "FIFO in the link state directory -> error logged" $((t1 - t0))
pass "natd logged the FIFO in networkd's link state, naming it, and runs on"

# Another broken state file: natd reads the directory again, names the new
# one and does not repeat the FIFO.
head -c $((64 * 1024 + 1)) /dev/zero >"$LINKS/.big"
mv "$LINKS/.big" "$LINKS/99"
big_error="Cannot use networkd's link state: $LINKS/99: too large: more than 64 KiB"
wait_until 5 grep -qF "$big_error" "$T/natd.log" ||
    fail "natd did not log '$big_error' within 5 s"
count=$(grep -cF "$fifo_error" "$T/natd.log")
((count == 1)) || fail "natd logged the FIFO $count times, expected once until its problem changes"
pass "an oversized state file is named too; the FIFO, still there, was logged once"

check_egress " (with the FIFO in $LINKS)"

# Responsive: SIGHUP is answered...
kill -HUP "$NATD_PID"
wait_until 5 grep -q 'Reload: configuration unchanged' "$T/natd.log" ||
    fail "natd did not answer SIGHUP within 5 s with the FIFO in $LINKS"
pass "natd answers SIGHUP with the FIFO in $LINKS"
# ... and SIGTERM ends it promptly.
now_ms t0
kill -TERM "$NATD_PID"
wait_exit "$NATD_PID" "$BOUND" || fail "natd did not exit within ${BOUND}s of SIGTERM with the FIFO in $LINKS"
now_ms t1
NATD_PID=
((EXIT_RC == 0)) || fail "natd exited with status $EXIT_RC on SIGTERM, expected 0"
timing "SIGTERM -> natd exited, FIFO in the link state directory" $((t1 - t0))
pass "SIGTERM ended natd in $((t1 - t0)) ms, exit 0"
