#!/usr/bin/env bash
# natd survives SIGKILL at any moment. In the simulated VPC (no networkd,
# natd on a private system bus), $SIGKILL_ROUNDS rounds (more, up to
# $SIGKILL_MAX_ROUNDS, until at least $SIGKILL_MIN_DURING kills landed while
# natd was applying):
#   1. natd is down; the private ENI comes back under the other kernel name
#      (ens6 <-> ens7, as after a reboot), so that natd has everything to
#      redo: the table, the routes, the drop-in moves to 70-<name>.network.d;
#   2. natd is started and SIGKILLed: in odd rounds after a random delay
#      from its start, 0 to twice its last start -> READY=1 time; in even rounds it runs under strace, each
#      fsync delayed by $SIGKILL_FSYNC_DELAY_MS ms (the apply takes well under
#      a millisecond here: a random moment would almost never land in it),
#      and is killed a random 0-$SIGKILL_DURING_SPREAD_MS ms after it logged
#      "Configuring" (so that kills land before, during and after the apply,
#      between a temporary file's fsync and its rename too; the round prints
#      which, from natd's log of that run);
#   3. natd is started again and must reach READY=1, and then there is
#      exactly one table ip natd (for the current name), exactly one route
#      per destination (natd's, on the current name), exactly one drop-in
#      (for the current name; the other name's directory gone), the sysctl.d
#      file, natd's record listing exactly those, no other file under --root
#      (no leftover temporary file: a killed natd may leave one, the next
#      natd must clean it up; noted per round, the test fails at the end),
#      natd-ctl status ready, and the private
#      hosts reach the internet through the NAT. natd is then stopped
#      (SIGTERM).
# SIGKILL_SEED makes the delays reproducible (printed).
# Usage: sigkill.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

SIGKILL_ROUNDS=${SIGKILL_ROUNDS:-10}
SIGKILL_MAX_ROUNDS=${SIGKILL_MAX_ROUNDS:-30}
SIGKILL_MIN_DURING=${SIGKILL_MIN_DURING:-2}
SIGKILL_SEED=${SIGKILL_SEED:-$$}
SIGKILL_FSYNC_DELAY_MS=${SIGKILL_FSYNC_DELAY_MS:-10}
SIGKILL_DURING_SPREAD_MS=${SIGKILL_DURING_SPREAD_MS:-40}
RANDOM=$SIGKILL_SEED

drift_init integration.sigkill "$@"
info "random delays from seed $SIGKILL_SEED (SIGKILL_SEED=$SIGKILL_SEED reproduces them)"
drift_vpc
drift_ready
check_egress " (first start)"
natd_stop
last_ready_ms=$((READY_MS - NATD_START_MS))
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# natd_exec_slow_fsync: natd_exec (no arguments), under strace with every
# fsync (natd's atomic file writes: the temporary file and its directory)
# delayed by SIGKILL_FSYNC_DELAY_MS, so that the apply lasts long enough to be
# killed in the middle of.
natd_exec_slow_fsync() {
    exec ip netns exec "$NS_NAT" strace -f -qq -o /dev/null -e trace=fsync \
        -e inject=fsync:delay_enter=$((SIGKILL_FSYNC_DELAY_MS * 1000)) \
        "$NATD" --root "$ROOT" </dev/null >>"$T/natd.log" 2>&1
}

# wait_log_from LINE PATTERN: until natd's log from line LINE on has PATTERN
# (at most 10 s).
wait_log_from() {
    local deadline=$((SECONDS + 10))
    local lines
    while :; do
        lines=$(tail -n +"$1" "$T/natd.log")
        [[ $lines != *"$2"* ]] || return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.002
    done
}
other_name() { [[ $1 == ens6 ]] && echo ens7 || echo ens6; }

# expected_files: the files natd must have under --root (but its config).
expected_files() {
    printf '%s\n' "$SYSCTL_REL" "$(dropin_dir "$PRIV_DEV")/natd.conf" var/lib/natd/files var/lib/natd/lock | sort
}
files_under_root() {
    (cd "$ROOT" && find . -path ./etc/natd -prune -o -path ./run -prune -o -type f -print | sed 's|^\./||' | sort)
}

declare -A kills=([before]=0 [during]=0 [after]=0)
leftovers=()
round=0
while ((round < SIGKILL_ROUNDS || (kills[during] < SIGKILL_MIN_DURING && round < SIGKILL_MAX_ROUNDS))); do
    round=$((round + 1))
    # 1. The ENI under the other name.
    old=$PRIV_DEV
    new=$(other_name "$old")
    ip -n "$NS_NAT" link set "$old" down
    ip -n "$NS_NAT" link set "$old" name "$new"
    ip -n "$NS_NAT" link set "$new" up
    PRIV_DEV=$new

    # 2. Start natd and SIGKILL it after a random delay.
    log_from=$(($(wc -l <"$T/natd.log") + 1))
    if ((round % 2)); then
        delay_ms=$((RANDOM % (2 * last_ready_ms + 1)))
        natd_exec -- &
        pid=$!
        sleep_ms "$delay_ms"  # the kill moment (the test's input)
        kill -KILL "$pid"
        moment="after $delay_ms ms"
    else
        delay_ms=$((RANDOM % (SIGKILL_DURING_SPREAD_MS + 1)))
        natd_exec_slow_fsync &
        pid=$!
        wait_log_from "$log_from" 'Configuring' ||
            fail "round $round: natd (under strace) did not log Configuring within 10 s"
        sleep_ms "$delay_ms"
        natd_pid=$(pgrep -P "$pid") || fail "round $round: natd is not running under strace (pid $pid)"
        kill -KILL "$natd_pid"
        moment="$delay_ms ms after it logged Configuring (fsync slowed)"
    fi
    wait "$pid" 2>/dev/null || true
    run_log=$(tail -n +"$log_from" "$T/natd.log")
    if grep -q 'Ready:' <<<"$run_log"; then
        when=after
    elif grep -q 'Configuring' <<<"$run_log"; then
        when=during
    else
        when=before
    fi
    kills[$when]=$((kills[$when] + 1))
    wrote=$(grep -c 'Wrote\|Removed' <<<"$run_log" || true)
    info "round $round ($old -> $new): SIGKILL $moment: $when the apply ($wrote file writes/removals logged; last line: $(tail -n 1 <<<"$run_log" | sed 's/^[0-9-]* [0-9:.]* //'))"

    # 3. Start again: READY=1, and one of everything.
    natd_start
    natd_wait_ready
    last_ready_ms=$((READY_MS - NATD_START_MS))
    timing "round $round: natd started (after a SIGKILL $when the apply) -> READY=1" "$last_ready_ms"
    out=$(one_table && table_on "$new") || fail "round $round: $out"
    routes=$(natd_routes_on "$new") || fail "round $round: $routes"
    dropin=$(dropin_dir "$new")/natd.conf
    check_dropin "$dropin"
    [[ ! -e $ROOT/$(dropin_dir "$old") ]] ||
        fail "round $round: the drop-in directory for $old is still there: $(ls -A "$ROOT/$(dropin_dir "$old")")"
    check_sysctl_file
    check_registry "/$SYSCTL_REL" "/$dropin"
    have=$(files_under_root)
    if [[ $have != "$(expected_files)" ]]; then
        # natd's temporary files (".NAME.natd-XXXX") left by the SIGKILL:
        # noted (and removed, so that each round's are its own); the test
        # fails at the end. Anything else fails now.
        extra=$(comm -13 <(expected_files) - <<<"$have")
        missing=$(comm -23 <(expected_files) - <<<"$have")
        if [[ -z $missing ]] && ! grep -qvE '(^|/)\.[^/]+\.natd-[0-9a-f]+$' <<<"$extra"; then
            leftovers+=("round $round (SIGKILL $when the apply, $moment): $(tr '\n' ' ' <<<"$extra")")
            info "round $round: natd left temporary files behind, not cleaned up by the next start: $(tr '\n' ' ' <<<"$extra")"
            mapfile -t extra_files <<<"$extra"
            (cd "$ROOT" && rm -f -- "${extra_files[@]}")
            have=$(files_under_root)
        else
            fail "round $round: the files under --root are:"$'\n'"$have"$'\n'"expected exactly:"$'\n'"$(expected_files)"
        fi
    fi
    ctl_status 0
    st=$($SJ expect state='"ready"' private.name="\"$new\"" nftables.verified=true forwarding=true <<<"$CTL_OUT" 2>&1) ||
        fail "round $round: $st"$'\n'"$CTL_OUT"
    check_egress " (round $round)"
    pass "round $round: after a SIGKILL $when the apply: one table ($out), $routes, one drop-in ($dropin), files exactly $(tr '\n' ' ' <<<"$have")"
    natd_stop
done

info "$round rounds: SIGKILL before the apply ${kills[before]}, during ${kills[during]}, after READY ${kills[after]}"
((kills[during] >= SIGKILL_MIN_DURING)) ||
    fail "only ${kills[during]} of $round SIGKILLs landed during the apply (wanted $SIGKILL_MIN_DURING): the test did not test what it claims (seed $SIGKILL_SEED)"
if ((${#leftovers[@]})); then
    for l in "${leftovers[@]}"; do printf '[%s]   %s\n' "$TEST_NAME" "$l" >&2; done
    fail "in ${#leftovers[@]} of $round rounds natd's SIGKILLed run left temporary files under --root that the next natd did not remove (listed above): natd's files are not exactly its sysctl.d file, one drop-in and its record"
fi
pass "natd recovered from $round SIGKILLs (${kills[before]} before, ${kills[during]} during, ${kills[after]} after the apply)"
