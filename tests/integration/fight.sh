#!/usr/bin/env bash
# natd does not fight another program forever. With natd ready in the
# simulated VPC (no networkd, natd on a private system bus), a loop keeps
# deleting table ip natd (`nft delete table ip natd` back to back, at most
# $FIGHT_ITERATIONS times or $FIGHT_SECONDS s):
#   - natd repairs exactly 20 of those undos (its limit: more than 20 undos of
#     the same part within 60 s suspend its repair), then stops re-creating
#     the table;
#   - natd-ctl status --json exits 1, state "degraded", and the status names
#     the process behind the last nftables change ("nft") and says natd
#     stopped repairing; natd's log says so too;
#   - natd's CPU time over the fight stays under $FIGHT_CPU_LIMIT_MS ms
#     (utime + stime from /proc/<pid>/stat);
#   - the table stays deleted: natd re-creates it only once it was left
#     alone for 60 s (not earlier, and at most $RESUME_SLACK_MS ms later),
#     counts that repair, and is ready again, with the NAT working. Halfway
#     through the quiet an unrelated route is added and deleted: that is no
#     undo of natd's table and must not delay the resumption
#     (FIGHT_NOISE=0 leaves it out).
# (The 60 s of quiet are waited for: the test takes about 70 s.)
# Usage: fight.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

FIGHT_ITERATIONS=${FIGHT_ITERATIONS:-200}
FIGHT_SECONDS=${FIGHT_SECONDS:-10}
FIGHT_CPU_LIMIT_MS=${FIGHT_CPU_LIMIT_MS:-2000}
GUARD_LIMIT=20        # natd repairs at most this many undos of a part per window
GUARD_WINDOW_S=60     # the window, and the quiet natd waits for before resuming
RESUME_SLACK_MS=${RESUME_SLACK_MS:-2000}

drift_init integration.fight "$@"
drift_vpc
drift_ready
check_egress " (before the fight)"
mon_start
ctl_status 0
repairs0=$(sj_get repairs)
hz=$(getconf CLK_TCK)

# --- the fight -------------------------------------------------------------------
cpu0=$(natd_cpu_ticks)
t0=0 t1=0 now=0
now_ms t0
deleted=0 failed=0 iterations=0
while ((iterations < FIGHT_ITERATIONS)); do
    now_ms now
    ((now - t0 < FIGHT_SECONDS * 1000)) || break
    iterations=$((iterations + 1))
    if ip netns exec "$NS_NAT" nft delete table ip natd 2>/dev/null; then
        deleted=$((deleted + 1))
    else
        failed=$((failed + 1))
    fi
done
now_ms t1
cpu1=$(natd_cpu_ticks)
cpu_ms=$(((cpu1 - cpu0) * 1000 / hz))
info "fight: $iterations x 'nft delete table ip natd' in $((t1 - t0)) ms: $deleted deleted the table, $failed found none"
timing "fight: natd CPU time (utime+stime) over $((t1 - t0)) ms and $deleted deletions" "$cpu_ms"

# What natd did meanwhile, from the events: its re-creations, and the stamp of
# the last deletion (the start of the quiet natd waits for).
natd_recreated=0 last_delete_us=
while mon_expect 0.5 "^[0-9]+ nft "; do
    if [[ $MON_LINE =~ ^[0-9]+\ nft\ $NATD_PID\ natd\ .*NEWTABLE:ip:natd ]]; then
        natd_recreated=$((natd_recreated + 1))
    elif [[ $MON_LINE =~ ^[0-9]+\ nft\ [0-9]+\ nft\ .*DELTABLE:ip:natd ]]; then
        last_delete_us=$MON_US
    fi
done
[[ -n $last_delete_us ]] || fail "no deletion of table ip natd seen by the event monitor"
info "natd re-created table ip natd $natd_recreated times during the fight"

((natd_recreated == GUARD_LIMIT)) ||
    fail "natd re-created its table $natd_recreated times during the fight, expected exactly $GUARD_LIMIT (then stop: more than $GUARD_LIMIT undos within ${GUARD_WINDOW_S}s)"
((deleted == GUARD_LIMIT + 1)) ||
    fail "the loop deleted the table $deleted times, expected $((GUARD_LIMIT + 1)) (the first, then once after each of natd's $GUARD_LIMIT repairs)"
pass "natd repaired $natd_recreated of $deleted deletions, then stopped re-creating its table"
((cpu_ms < FIGHT_CPU_LIMIT_MS)) ||
    fail "natd used $cpu_ms ms of CPU over the fight, limit $FIGHT_CPU_LIMIT_MS ms"
pass "natd's CPU time over the fight: $cpu_ms ms < $FIGHT_CPU_LIMIT_MS ms"

# --- degraded --------------------------------------------------------------------
out=$(ip netns exec "$NS_NAT" nft list table ip natd 2>&1) &&
    fail "table ip natd is back right after the fight: natd kept repairing:"$'\n'"$out"
ctl_status 1
out=$($SJ expect reachable=true state='"degraded"' nftables.present=false \
    nftables.verified=false repairs=$((repairs0 + GUARD_LIMIT)) <<<"$CTL_OUT" 2>&1) ||
    fail "after the fight: $out"$'\n'"$CTL_OUT"
status=$(sj_get status)
[[ $status =~ nft ]] || fail "the degraded status does not name the nft process: $status"
[[ $status =~ by\ nft,\ pid\ [0-9]+ ]] ||
    fail "the degraded status does not say which process changed nftables last ('by nft, pid N'): $status"
[[ $status =~ stopped\ repairing ]] || fail "the degraded status does not say natd stopped repairing: $status"
pass "natd-ctl status --json: exit 1, state degraded, table absent, repairs $(sj_get repairs), status: $status"
grep -q "Degraded: table ip natd keeps being removed or altered (last nftables change by nft" "$T/natd.log" ||
    fail "natd's log does not say it stopped repairing the table:"$'\n'"$(tail -n 5 "$T/natd.log")"
pass "natd's log: $(grep -m1 'Degraded: table ip natd keeps' "$T/natd.log" | sed 's/.*\(Degraded\)/\1/')"
natd_ctl_expect 1 "human status after the fight" status
grep -Eq '^ *State: degraded' <<<"$CTL_OUT" || fail "natd-ctl status does not show State: degraded:"$'\n'"$CTL_OUT"

# --- left alone: natd resumes after the quiet window ----------------------------
# Halfway through, something unrelated happens: a route to a TEST-NET-2 prefix
# is added and deleted (as DHCP renewals, other daemons and operators do).
# That undoes nothing of natd's: the quiet still ends 60 s after the last
# deletion of the table.
cpu2=$(natd_cpu_ticks)
now_ms now
half_s=$(((last_delete_us / 1000 + GUARD_WINDOW_S * 500 - now) / 1000))
((half_s > 0)) || half_s=1
recreated_re="^[0-9]+ nft $NATD_PID natd .*NEWTABLE:ip:natd"
info "leaving natd alone: no re-creation of its table for ${half_s}s (half the quiet window)"
mon_quiet "$half_s" "$recreated_re" "natd re-created its table before ${GUARD_WINDOW_S}s of quiet"
if [[ ${FIGHT_NOISE:-1} == 1 ]]; then
    ip -n "$NS_NAT" route add blackhole 198.51.100.0/24
    ip -n "$NS_NAT" route del blackhole 198.51.100.0/24
    now_ms noise_ms
    info "an unrelated route (blackhole 198.51.100.0/24) added and deleted $((noise_ms - last_delete_us / 1000)) ms after the last deletion"
fi
now_ms now
wait_s=$(((last_delete_us / 1000 + GUARD_WINDOW_S * 1000 + RESUME_SLACK_MS - now) / 1000 + 1))
info "waiting (at most ${wait_s}s) for natd to re-create its table ${GUARD_WINDOW_S}s after the last deletion"
if ! mon_expect "$wait_s" "$recreated_re"; then
    # Late: how late (for the report), then fail.
    late=''
    if mon_expect 45 "$recreated_re"; then
        late="; it did $(((MON_US - last_delete_us) / 1000)) ms after the last deletion"
        [[ -n ${noise_ms:-} ]] &&
            late+=", $((MON_US / 1000 - noise_ms)) ms after the unrelated route change: natd counted that event as one more undo of its (still missing) table"
    fi
    fail "natd did not re-create its table within ${GUARD_WINDOW_S}s + $RESUME_SLACK_MS ms of the last deletion$late"
fi
resume_ms=$(((MON_US - last_delete_us) / 1000))
cpu3=$(natd_cpu_ticks)
timing "last deletion -> natd re-created its table (resumed)" "$resume_ms"
timing "natd CPU time while left alone" $(((cpu3 - cpu2) * 1000 / hz))
((resume_ms >= GUARD_WINDOW_S * 1000)) ||
    fail "natd re-created its table $resume_ms ms after the last deletion, before ${GUARD_WINDOW_S}s of quiet"
pass "the table stayed deleted for $resume_ms ms; natd re-created it after ${GUARD_WINDOW_S}s of quiet"
out=$(table_on "$PRIV_DEV") || fail "after natd resumed: $out"
ctl_status 0
out=$($SJ expect state='"ready"' nftables.present=true nftables.verified=true \
    repairs=$((repairs0 + GUARD_LIMIT + 1)) <<<"$CTL_OUT" 2>&1) ||
    fail "after natd resumed: $out"$'\n'"$CTL_OUT"
grep -q 'Left alone long enough: natd repairs ruleset again' "$T/natd.log" ||
    fail "natd's log does not say it resumed repairing the ruleset"
pass "natd resumed: ready, repairs $(sj_get repairs), log: $(grep -m1 'Left alone long enough' "$T/natd.log" | sed 's/.*\(Left\)/\1/')"
check_egress " (after natd resumed)"
check_inbound_blocked
