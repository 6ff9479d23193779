#!/usr/bin/env bash
# Hostile configurations reloaded into a running natd. natd is ready in the
# simulated VPC; for each of a subset of tests/hostile's cases (a NUL byte,
# a 1 MB line, a FIFO, /dev/zero, a symlink loop, overlapping subnets,
# 100,000 subnets with one overlap, garbage, ...) the configuration is
# replaced and natd gets SIGHUP. Each time natd must log the case's
# "FILE:LINE: message" and "Reload refused", keep running, keep its nft
# table, its routes, ip_forward and the files it wrote exactly as they were
# (no partial apply), and NAT must still work. Then a valid change is
# reloaded and applied (a new return route), so the refusals were the
# configurations' doing.
# Usage: hostile-reload.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/hostile/hostile-lib.sh
source "$(dirname "$0")/../hostile/hostile-lib.sh"
UNPRIVILEGED=()  # (no permission cases here: natd runs as root)

lib_init integration.hostile-reload "$@"
ENI_STEP_DELAY=0
BOUND=10  # seconds for natd to answer a SIGHUP; more is a hang

# The running configuration: VALID of hostile-lib.sh with this VPC's
# subnets, so that every case's "valid rest" is a change natd would apply.
running_config() {
    cat <<EOF
[Interfaces]
Public=device-number-0
Private=device-number-1
WaitTimeoutSec=60s

[Routes]
Subnets=$SUBNETS
EOF
}

# What natd owns and must not change on a refused reload. nft -s: without
# counters, which the egress checks move.
kernel_state() {
    ip netns exec "$NS_NAT" nft -s list table ip natd
    ip -n "$NS_NAT" -4 route show table all
    echo "ip_forward=$(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward)"
}
# The files natd wrote under --root (its configuration directory aside;
# directories without their mtime: replacing etc/natd changes etc's).
files_state() {
    (
        cd "$ROOT"
        find . -path ./etc/natd -prune -o -type d -printf '%p %y %m\n' -o -printf '%p %y %m %s %T@\n' |
            LC_ALL=C sort
        find . -path ./etc/natd -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    )
}

# wait_log SECS FROM TEXT: natd's log, from byte FROM on, has a line with
# TEXT within SECS seconds (polled, bounded); natd must live meanwhile.
wait_log() {
    local secs=$1 from=$2 text=$3 deadline now log
    now_ms deadline
    deadline=$((deadline + secs * 1000))
    while true; do
        # (Read first: with pipefail, grep -q ending a pipe early fails it.)
        log=$(tail -c +"$((from + 1))" "$T/natd.log")
        grep -qF -- "$text" <<<"$log" && return 0
        natd_alive || return 1
        now_ms now
        ((now < deadline)) || return 1
        sleep 0.02
    done
}

# replace_config CASE: /etc/natd holds case CASE's input only.
replace_config() {
    local etc=$ROOT/etc/natd
    chmod -R u+rwx "$etc" 2>/dev/null || true
    rm -rf "$etc"
    mkdir -p "$etc"
    hostile_setup "$1" "$etc" || fail "$1: no such case in tests/hostile"
}

write_config etc/natd/natd.conf < <(running_config)
vpc_create card
eni_plug
eni_name card
natd_start
natd_wait_ready
check_egress
KERNEL_BEFORE=$(kernel_state)
FILES_BEFORE=$(files_state)
grep -q '10.0.2.0/24 via 10.0.1.1' <<<"$KERNEL_BEFORE" ||
    fail "setup: natd is ready but its return route 10.0.2.0/24 is not there: $KERNEL_BEFORE"

# A representative subset of tests/hostile/cases.tsv: one of each kind of
# input the file reader and the parser refuse.
CASES=(
    nul-in-value long-line-1mb too-large fifo fifo-dropin dev-zero dev-zero-dropin
    symlink-loop symlink-loop-dropin directory dropin-dir-is-file overlap overlap-nested
    subnets-100k-overlap garbage-bytes ansi-escape dropin-garbage-override backslash-eof
    ipv6-subnet selector-128 host-bits
)
SLOWEST=0
for name in "${CASES[@]}"; do
    hostile_row "$name" || fail "$name: no row in tests/hostile/cases.tsv"
    ((ROW[1] == 2)) || fail "$name: cases.tsv says it is valid (exit ${ROW[1]}), not a refused reload"
    # The case's first expectation: its FILE:LINE: message, as natd logs it.
    expect=${ROW[2]}
    replace_config "$name"
    from=$(stat -c %s "$T/natd.log")
    now_ms t0
    kill -HUP "$NATD_PID"
    wait_log "$BOUND" "$from" "Reload refused: the configuration has errors; keeping the running one" ||
        fail "$name: natd did not refuse the reload within ${BOUND}s (alive: $(natd_alive && echo yes || echo no)):"$'\n'"$(tail -c +"$((from + 1))" "$T/natd.log" | head -c 3000)"
    now_ms t1
    ms=$((t1 - t0))
    ((ms > SLOWEST)) && SLOWEST=$ms
    [[ $name != subnets-100k-overlap ]] || timing "SIGHUP -> reload refused, 100,000 subnets with one overlap" "$ms"
    new=$(tail -c +"$((from + 1))" "$T/natd.log")
    # Paths as cases.tsv writes them: without the scratch root.
    new=${new//"$ROOT"/}
    grep -qF -- "$expect" <<<"$new" ||
        fail "$name: natd's log lacks '$expect' (paths under $ROOT):"$'\n'"$(head -c 3000 <<<"$new")"
    # What natd logged about the case is printable (no NUL, ESC or raw bytes).
    [[ $(LC_ALL=C tr -d '\n\40-\176' <<<"$new" | wc -c) == 0 ]] ||
        fail "$name: natd logged bytes that are not printable ASCII: $(od -c <<<"$new" | head -n 5)"
    natd_alive || fail "$name: natd exited after the SIGHUP"
    after=$(kernel_state)
    [[ $after == "$KERNEL_BEFORE" ]] ||
        fail "$name: a refused reload changed the kernel:"$'\n'"$(diff <(echo "$KERNEL_BEFORE") <(echo "$after"))"
    after=$(files_state)
    [[ $after == "$FILES_BEFORE" ]] ||
        fail "$name: a refused reload changed natd's files:"$'\n'"$(diff <(echo "$FILES_BEFORE") <(echo "$after"))"
    check_egress " (after the refused $name)"
    pass "$name: reload refused in $ms ms with '$(cut -c 1-120 <<<"$expect")'; table, routes, files unchanged, NAT works"
done
timing "SIGHUP -> reload refused (slowest of ${#CASES[@]} cases)" "$SLOWEST"

# --- control: a valid change is applied ----------------------------------------------
rm -rf "$ROOT/etc/natd"
mkdir -p "$ROOT/etc/natd/natd.conf.d"
running_config >"$ROOT/etc/natd/natd.conf"
printf '[Routes]\nSubnets=10.0.4.0/24\n' >"$ROOT/etc/natd/natd.conf.d/50-more.conf"
from=$(stat -c %s "$T/natd.log")
kill -HUP "$NATD_PID"
wait_log "$BOUND" "$from" "Reload: configuration changed" ||
    fail "control: natd did not take the valid change within ${BOUND}s:"$'\n'"$(tail -c +"$((from + 1))" "$T/natd.log")"
route_added() {
    local routes
    routes=$(ip -n "$NS_NAT" -4 route show 10.0.4.0/24)
    [[ $routes == *'via 10.0.1.1'* ]]
}
deadline=$((SECONDS + BOUND))
until route_added; do
    ((SECONDS < deadline)) || fail "control: no return route 10.0.4.0/24 via 10.0.1.1 ${BOUND}s after the valid reload: $(ip -n "$NS_NAT" -4 route)"
    sleep 0.02
done
natd_alive || fail "control: natd exited after the valid reload"
check_egress " (after the valid reload)"
pass "control: a valid reload after the refused ones is applied (return route 10.0.4.0/24 via 10.0.1.1) and NAT works"
