#!/usr/bin/env bash
# natd soak: one natd process through many drift repairs, ENI detach/attach
# cycles and HA failovers, watching that it does not grow. Three modes, each
# in the simulated VPC of tests/integration (lib.sh, drift-lib.sh, ha-lib.sh):
#
#   drift  SOAK_CYCLES times (default 1000) something undoes part of the NAT,
#          in turn: natd's table deleted, the return route 10.0.2.0/24
#          deleted, ip_forward off, the masquerade chain flushed, the route
#          10.0.3.0/24 deleted, the private ENI's forwarding off, the whole
#          ruleset flushed, 10.0.2.0/24 again, the public ENI's forwarding
#          off. Each time natd must repair it (its own repair event seen on
#          netlink within $SOAK_REPAIR_TIMEOUT s, the kernel state back), and
#          natd-ctl status must count exactly one repair per undo and stay
#          "ready".
#   eni    SOAK_CYCLES times the private ENI is detached (natd-ctl status
#          says waiting for device-number-1) and attached again as EC2 and
#          udev do it, alternately as ens7 and ens6: natd's table and both
#          return routes follow it within $SOAK_REPAIR_TIMEOUT s, exactly one
#          drop-in (the new name's) remains, status says ready on it.
#   ha     the HA pair (keepalived, conntrackd, fake EC2 API) fails over every
#          $SOAK_HA_PERIOD s (default 30) for $SOAK_HA_SECONDS s (default
#          600), alternately: nat1 (active) is lost (links down, everything
#          killed) and nat2 takes over; nat1 comes back as a new boot; nat2
#          hands the role back with `natd-ctl ha handover`. nat2's natd lives
#          through every failover: it is the one watched.
#
# natd's VmRSS (/proc/PID/status) and open fds (/proc/PID/fd) are taken at
# the start, after the warm-up, every 100 cycles (every failover for ha) and
# at the end, and printed as TIMING lines. The mode fails when, after the
# warm-up (the first 10% of the cycles, at least 10; ha: the first two
# failovers), natd's fds grew by more than $SOAK_FD_TOLERANCE (default 2:
# an fd a library may open lazily) or its RSS grew by more than
# $SOAK_RSS_BOUND_KB kB (default 8192 = 8 MiB: allocator caches and
# fragmentation; a sanitizer build gets 16 MiB, see below), when natd
# exits, or when a sanitizer build reports anything (lib.sh fails the test
# on any report; natd is stopped with SIGTERM at the end, so LeakSanitizer
# runs).
#
# With a sanitizer build (NATD_SANITIZE=ON), ASan parks freed memory in a
# quarantine (256 MiB by default) before reusing it: RSS would climb until
# the quarantine is full, whatever natd does. The soak caps it at 1 MiB
# (quarantine_size_mb), filled during the warm-up, and doubles the RSS bound
# (ASan's allocator and its stack depot keep what they took).
#
# Usage: soak.sh [--quick] [--mode drift|eni|ha|all] PATH-TO-natd [PATH-TO-natd-ctl]
#   default: every mode, full length (1000 + 1000 cycles, 10 min of HA);
#   --quick: 100 cycles each, and 3 failovers (SOAK_HA_SECONDS=90).
# Environment: SOAK_CYCLES, SOAK_HA_SECONDS, SOAK_HA_PERIOD (failovers:
# SOAK_HA_SECONDS / SOAK_HA_PERIOD), SOAK_FD_TOLERANCE, SOAK_RSS_BOUND_KB,
# SOAK_REPAIR_TIMEOUT, KEEP_TMP=1 (keep the scratch directory).
# Root; exit 77 = skipped (as the integration tests: not when CI=true).
set -euo pipefail

SOAK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INTEG=$SOAK_DIR/../integration

mode=all quick=
while (($#)); do
    case $1 in
        --quick) quick=1; shift ;;
        --mode) mode=${2:-}; shift 2 ;;
        --mode=*) mode=${1#--mode=}; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[[ $mode =~ ^(drift|eni|ha|all)$ ]] || { echo "soak.sh: --mode drift|eni|ha|all, not '$mode'" >&2; exit 2; }
(($# >= 1)) || { echo "usage: soak.sh [--quick] [--mode drift|eni|ha|all] PATH-TO-natd [PATH-TO-natd-ctl]" >&2; exit 2; }

if [[ -n $quick ]]; then
    SOAK_CYCLES=${SOAK_CYCLES:-100}
    SOAK_HA_SECONDS=${SOAK_HA_SECONDS:-90}
else
    SOAK_CYCLES=${SOAK_CYCLES:-1000}
    SOAK_HA_SECONDS=${SOAK_HA_SECONDS:-600}
fi
SOAK_HA_PERIOD=${SOAK_HA_PERIOD:-30}
SOAK_FD_TOLERANCE=${SOAK_FD_TOLERANCE:-2}
SOAK_REPAIR_TIMEOUT=${SOAK_REPAIR_TIMEOUT:-5}
SOAK_EGRESS_EVERY=${SOAK_EGRESS_EVERY:-25}  # cycles between two egress checks
# The ENI's hot-plug steps (lib.sh's deliberate pauses imitating EC2, udev
# and net-utils): shorter than in the integration tests, 1000 times over.
export ENI_STEP_DELAY=${ENI_STEP_DELAY:-0.05}

# all: each mode in a process of its own (its own namespaces, traps, natd).
if [[ $mode == all ]]; then
    status=0
    for m in drift eni ha; do
        bash "$0" ${quick:+--quick} --mode "$m" "$@" || { rc=$?; ((rc == 77)) && exit 77; status=1; }
    done
    exit "$status"
fi

# (Not `ldd | grep -q`: see sanitizer_setup in lib.sh.)
if [[ $(ldd "$1" 2>/dev/null || true) == *libasan.so* ]]; then
    # 1 MiB: a use after free is still caught while the freed block is
    # recent; 16 MiB took 90 drift cycles to fill (+18 MB after a 10-cycle
    # warm-up, no growth in a plain build).
    export NATD_ASAN_EXTRA=quarantine_size_mb=1
    SOAK_RSS_BOUND_KB=${SOAK_RSS_BOUND_KB:-16384}
else
    SOAK_RSS_BOUND_KB=${SOAK_RSS_BOUND_KB:-8192}
fi

# The lab's helpers must outlive a mode (lib.sh ends them after
# HELPER_LIFETIME s): 1000 ENI cycles take about an hour on 2 CPUs.
export HELPER_LIFETIME=${HELPER_LIFETIME:-10800}
# shellcheck source=tests/integration/drift-lib.sh
source "$INTEG/drift-lib.sh"
# shellcheck source=tests/integration/ha-lib.sh
source "$INTEG/ha-lib.sh"

# figure LABEL VALUE UNIT: a measured figure, as lib.sh's timing() prints
# them (run-all.sh collects the TIMING lines).
figure() {
    TIMINGS+=("$1: $2 $3")
    printf '[%s] TIMING %s: %s %s\n' "$TEST_NAME" "$1" "$2" "$3"
}

# --- natd's footprint ----------------------------------------------------------

# sample PID LABEL: natd's VmRSS (kB) and open fds into RSS_KB, FDS, printed
# as figures. Fails when natd is gone or a sanitizer already reported.
sample() {
    local pid=$1 label=$2
    [[ -r /proc/$pid/status ]] || fail "$label: natd (pid $pid) is gone"
    RSS_KB=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")
    FDS=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
    [[ -n $RSS_KB ]] || fail "$label: no VmRSS for natd (pid $pid)"
    figure "$label: natd VmRSS" "$RSS_KB" kB
    figure "$label: natd open fds" "$FDS" fds
    sanitizer_early_check "$label"
}

# sanitizer_early_check WHERE: a report already written (natd aborts at the
# first error, a natd-ctl run too) fails the soak now, not at its end.
sanitizer_early_check() {
    [[ -n $SANITIZED ]] || return 0
    if compgen -G "$T/sanitizer/report.*" >/dev/null; then
        fail "$1: a sanitizer reported (the report follows)"
    fi
}

# bounds WHAT WARM_RSS WARM_FDS: the last sample against the one after the
# warm-up.
bounds() {
    local what=$1 warm_rss=$2 warm_fds=$3
    figure "$what: natd VmRSS growth after the warm-up" $((RSS_KB - warm_rss)) kB
    figure "$what: natd fd growth after the warm-up" $((FDS - warm_fds)) fds
    ((FDS <= warm_fds + SOAK_FD_TOLERANCE)) ||
        fail "$what: natd's open fds grew from $warm_fds after the warm-up to $FDS (tolerance $SOAK_FD_TOLERANCE): $(find "/proc/$SOAK_PID/fd" -mindepth 1 -printf '%f -> %l\n' 2>&1)"
    ((RSS_KB <= warm_rss + SOAK_RSS_BOUND_KB)) ||
        fail "$what: natd's VmRSS grew from $warm_rss kB after the warm-up to $RSS_KB kB (bound +$SOAK_RSS_BOUND_KB kB)"
    pass "$what: natd's fds $warm_fds -> $FDS (tolerance +$SOAK_FD_TOLERANCE), VmRSS $warm_rss -> $RSS_KB kB (bound +$SOAK_RSS_BOUND_KB kB) after the warm-up"
}

WARMUP=$((SOAK_CYCLES / 10 < 10 ? 10 : SOAK_CYCLES / 10))
((SOAK_CYCLES > WARMUP)) || { echo "soak.sh: SOAK_CYCLES=$SOAK_CYCLES: more than the warm-up ($WARMUP) needed" >&2; exit 2; }

# cycle_sample I WHAT: at the warm-up's end, every 100 cycles and at the
# last cycle, a sample (the warm-up's one kept in WARM_RSS, WARM_FDS).
WARM_RSS='' WARM_FDS=''
cycle_sample() {
    local i=$1 what=$2
    if ((i == WARMUP)); then
        sample "$SOAK_PID" "$what, after the warm-up ($i cycles)"
        WARM_RSS=$RSS_KB WARM_FDS=$FDS
    elif ((i % 100 == 0 || i == SOAK_CYCLES)); then
        sample "$SOAK_PID" "$what, cycle $i"
    fi
}

# --- drift ---------------------------------------------------------------------

# natd suspends the repair of a part undone more than 20 times within 60 s
# (RepairGuard, fight.sh). The soak is about the steady state, not that
# limit: before undoing a part it makes sure the part was undone at most
# PACE_MAX times in the last PACE_WINDOW_MS (a margin under natd's limit:
# natd stamps an undo when it sees it, a few ms later), and otherwise waits
# until the oldest of those leaves the window. Pacing to a documented rate,
# not synchronization: the repair itself is waited for on its event.
PACE_MAX=18
PACE_WINDOW_MS=62000
declare -A PACE=()  # part -> stamps (ms) of its recent undos
pace() {
    local part=$1 now oldest kept=() s
    now_ms now
    for s in ${PACE[$part]:-}; do ((now - s < PACE_WINDOW_MS)) && kept+=("$s"); done
    if ((${#kept[@]} >= PACE_MAX)); then
        oldest=${kept[0]}
        local wait_ms=$((oldest + PACE_WINDOW_MS - now))
        PACED_MS=$((PACED_MS + wait_ms))
        sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
        kept=("${kept[@]:1}")
    fi
    now_ms now
    kept+=("$now")
    PACE[$part]="${kept[*]}"
}
PACED_MS=0

soak_drift() {
    drift_init soak.drift "$@"
    drift_vpc
    drift_ready
    SOAK_PID=$NATD_PID
    check_egress " (before the soak)"
    mon_start
    local ifx pifx
    ifx=$(ifindex_of "$PRIV_DEV")
    pifx=$(ifindex_of "$PUB_DEV")
    local natd_re="^[0-9]+ nft $SOAK_PID natd .*NEWTABLE:ip:natd( |$)"
    # name|part|command|undo ERE|repair ERE|check: in turn, three of each part.
    local kinds=(
        "table;ruleset;nft delete table ip natd;^[0-9]+ nft [0-9]+ nft .*DELTABLE:ip:natd( |$);$natd_re;restored_table"
        "route2;routes;ip route del 10.0.2.0/24;^[0-9]+ route del 10\.0\.2\.0/24 dev $ifx proto $NATD_PROTO ;^[0-9]+ route add 10\.0\.2\.0/24 dev $ifx proto $NATD_PROTO ;restored_routes"
        "forward;forwarding;sysctl -w net.ipv4.ip_forward=0;^[0-9]+ forwarding 0$;^[0-9]+ forwarding 1$;restored_forwarding"
        "rule;ruleset;nft flush chain ip natd postrouting;^[0-9]+ nft [0-9]+ nft DELRULE:ip:natd:postrouting( DELRULE:ip:natd:postrouting)*$;$natd_re;restored_table"
        "route3;routes;ip route del 10.0.3.0/24;^[0-9]+ route del 10\.0\.3\.0/24 dev $ifx proto $NATD_PROTO ;^[0-9]+ route add 10\.0\.3\.0/24 dev $ifx proto $NATD_PROTO ;restored_routes"
        "ifforward;forwarding;sysctl -w net.ipv4.conf.$PRIV_DEV.forwarding=0;^[0-9]+ ifforwarding $ifx 0$;^[0-9]+ ifforwarding $ifx 1$;restored_forwarding"
        "flush;ruleset;nft flush ruleset;^[0-9]+ nft [0-9]+ nft .*DELTABLE:ip:natd( |$);$natd_re;restored_table"
        "route2;routes;ip route del 10.0.2.0/24;^[0-9]+ route del 10\.0\.2\.0/24 dev $ifx proto $NATD_PROTO ;^[0-9]+ route add 10\.0\.2\.0/24 dev $ifx proto $NATD_PROTO ;restored_routes"
        "pubforward;forwarding;sysctl -w net.ipv4.conf.$PUB_DEV.forwarding=0;^[0-9]+ ifforwarding $pifx 0$;^[0-9]+ ifforwarding $pifx 1$;restored_forwarding"
    )
    restored_table() { one_table && table_on "$PRIV_DEV"; }
    restored_routes() { natd_routes_on "$PRIV_DEV"; }
    restored_forwarding() {
        local key v
        for key in net.ipv4.ip_forward "net.ipv4.conf.$PRIV_DEV.forwarding" "net.ipv4.conf.$PUB_DEV.forwarding"; do
            v=$(ip netns exec "$NS_NAT" sysctl -n "$key")
            [[ $v == 1 ]] || { echo "$key is $v"; return 1; }
        done
        echo "forwarding on"
    }

    sample "$SOAK_PID" "drift, start"
    ctl_status 0
    local r0 i name part cmd undo_re repair_re check out t0 deltas=() t_start t_end
    r0=$(sj_get repairs)
    now_ms t_start
    for ((i = 1; i <= SOAK_CYCLES; i++)); do
        IFS=';' read -r name part cmd undo_re repair_re check <<<"${kinds[(i - 1) % ${#kinds[@]}]}"
        pace "$part"
        mon_drain
        # shellcheck disable=SC2086 # the command's words
        ip netns exec "$NS_NAT" $cmd >/dev/null 2>"$T/undo.err" ||
            fail "cycle $i ($name): '$cmd' failed: $(cat "$T/undo.err")"
        mon_must "$SOAK_REPAIR_TIMEOUT" "$undo_re" "cycle $i ($name: '$cmd')"
        t0=$MON_US
        mon_must "$SOAK_REPAIR_TIMEOUT" "$repair_re" "cycle $i ($name): natd did not repair after '$cmd'"
        deltas+=($((MON_US - t0)))
        out=$("$check" 2>&1) || fail "cycle $i ($name): after natd's repair event: $out"
        if ((i % SOAK_EGRESS_EVERY == 0)); then
            check_egress " (drift cycle $i)" >/dev/null
        fi
        if ((i % 100 == 0 || i == WARMUP || i == SOAK_CYCLES)); then
            # Exactly one repair per undo, and natd still ready.
            ctl_status 0
            out=$($SJ expect state='"ready"' nftables.verified=true forwarding=true <<<"$CTL_OUT" 2>&1) ||
                fail "cycle $i: $out"$'\n'"$CTL_OUT"
            (($(sj_get repairs) - r0 == i)) ||
                fail "cycle $i: natd-ctl status counts $(($(sj_get repairs) - r0)) repairs for $i undos"
            info "cycle $i: $i undos, $i repairs, ready; last: $name -> repaired in $(us_ms "${deltas[-1]}") ms ($out)"
        fi
        cycle_sample "$i" drift
    done
    now_ms t_end
    check_egress " (after $SOAK_CYCLES drift cycles)"
    figure "drift: $SOAK_CYCLES cycles, wall time" $((t_end - t_start)) ms
    figure "drift: of which paced under natd's repair limit" "$PACED_MS" ms
    timing "drift: undo -> repaired, p50" "$(us_ms "$(rank_us 0.5 "${deltas[@]}")")"
    timing "drift: undo -> repaired, p99" "$(us_ms "$(rank_us 0.99 "${deltas[@]}")")"
    timing "drift: undo -> repaired, max" "$(us_ms "$(rank_us 1 "${deltas[@]}")")"
    sample "$SOAK_PID" "drift, end ($SOAK_CYCLES cycles)"
    bounds "drift ($SOAK_CYCLES cycles)" "$WARM_RSS" "$WARM_FDS"
    natd_stop  # SIGTERM: exit 0, and LeakSanitizer's check in a sanitizer build
    pass "drift: $SOAK_CYCLES undos, each repaired once ($(stats_ms "${deltas[@]}") ms), natd exited 0 on SIGTERM"
}

# --- ENI detach/attach -----------------------------------------------------------

# link_index NAME: the ifindex of a link of the NAT instance (drift-lib's
# ifindex_of without a Python start, 1000 times over).
link_index() {
    local line
    line=$(ip -n "$NS_NAT" -o link show dev "$1") || fail "no link $1 in the NAT instance"
    echo "${line%%:*}"
}

soak_eni() {
    drift_init soak.eni "$@"
    drift_vpc
    drift_ready
    SOAK_PID=$NATD_PID
    check_egress " (before the soak)"
    mon_start
    sample "$SOAK_PID" "eni, start"
    local i old new ifx out both=() t_alt t_start t_end n
    now_ms t_start
    for ((i = 1; i <= SOAK_CYCLES; i++)); do
        old=$PRIV_DEV
        new=ens6
        [[ $old != ens6 ]] || new=ens7
        mon_drain
        ip -n "$NS_NAT" link del "$old"
        wait_until "$SOAK_REPAIR_TIMEOUT" waiting_private ||
            fail "cycle $i: after detaching $old natd-ctl status does not say waiting for device-number-1: $WAIT_OUT"
        PRIV_DEV=$new
        eni_plug >/dev/null
        ifx=$(link_index "$new")
        eni_name card >/dev/null
        mon_must "$SOAK_REPAIR_TIMEOUT" "^[0-9]+ link new $ifx $new up altnames=device-number-1\.0$" "cycle $i: the altname on $new"
        t_alt=$MON_US
        mon_all "$SOAK_REPAIR_TIMEOUT" "^[0-9]+ nft $SOAK_PID natd .*NEWTABLE:ip:natd( |$)" \
            "^[0-9]+ route add 10\.0\.2\.0/24 dev $ifx proto $NATD_PROTO " \
            "^[0-9]+ route add 10\.0\.3\.0/24 dev $ifx proto $NATD_PROTO " ||
            fail "cycle $i: within ${SOAK_REPAIR_TIMEOUT}s of the altname on $new, natd did not install: $MON_MISSING"$'\n'"$(tail -n 15 "$T/natd.log")"
        both+=($((MON_US - t_alt)))
        out=$(table_on "$new") || fail "cycle $i: $out"
        out=$(natd_routes_on "$new") || fail "cycle $i: $out"
        # Exactly one drop-in: the new name's (natd removed the old one).
        n=$(find "$ROOT/etc/systemd/network" -name natd.conf | wc -l)
        if ((n != 1)) || [[ ! -f $ROOT/$(dropin_dir "$new")/natd.conf ]]; then
            fail "cycle $i: $n drop-ins, expected only $(dropin_dir "$new")/natd.conf: $(cd "$ROOT" && find etc/systemd/network -name natd.conf)"
        fi
        if ((i % 100 == 0 || i == WARMUP || i == SOAK_CYCLES)); then
            ctl_status 0
            out=$($SJ expect state='"ready"' private.name="\"$new\"" nftables.verified=true <<<"$CTL_OUT" 2>&1) ||
                fail "cycle $i: $out"$'\n'"$CTL_OUT"
            check_registry "/$SYSCTL_REL" "/$(dropin_dir "$new")/natd.conf" >/dev/null
            info "cycle $i: $old -> $new, natd ready on $new, table and routes $(us_ms "${both[-1]}") ms after the altname"
        fi
        if ((i % SOAK_EGRESS_EVERY == 0)); then
            check_egress " (eni cycle $i, on $new)" >/dev/null
        fi
        cycle_sample "$i" eni
    done
    now_ms t_end
    check_egress " (after $SOAK_CYCLES ENI cycles)"
    figure "eni: $SOAK_CYCLES detach/attach cycles, wall time" $((t_end - t_start)) ms
    timing "eni: altname -> table and both routes, p50" "$(us_ms "$(rank_us 0.5 "${both[@]}")")"
    timing "eni: altname -> table and both routes, max" "$(us_ms "$(rank_us 1 "${both[@]}")")"
    sample "$SOAK_PID" "eni, end ($SOAK_CYCLES cycles)"
    bounds "eni ($SOAK_CYCLES cycles)" "$WARM_RSS" "$WARM_FDS"
    natd_stop
    pass "eni: $SOAK_CYCLES detach/attach cycles followed ($(stats_ms "${both[@]}") ms), natd exited 0 on SIGTERM"
}

# --- HA failovers ----------------------------------------------------------------

soak_ha() {
    ha_init soak.ha "$@"
    ha_lab_create
    ha_pair_start
    pass "nat1 active, nat2 a ready standby"
    SOAK_PID=$(<"$T/natd2.pid")
    sample "$SOAK_PID" "ha, start (nat2 standby)"
    # One failover at the start of each period of the run.
    local k t_start t0 t1 rss=() fds=() role failovers=$((SOAK_HA_SECONDS / SOAK_HA_PERIOD))
    ((failovers >= 2)) || fail "SOAK_HA_SECONDS=$SOAK_HA_SECONDS, SOAK_HA_PERIOD=$SOAK_HA_PERIOD: at least 2 failovers (one of each kind) needed"
    t_start=$SECONDS
    egress_is_eip() { [[ $(ha_egress) == "$HA_EIP" ]]; }
    for ((k = 1; k <= failovers; k++)); do
        # Pacing: failover k at (k - 1) periods (the soak's rate, not a wait
        # for anything: every step below waits on its condition, bounded).
        while ((SECONDS < t_start + (k - 1) * SOAK_HA_PERIOD)); do sleep 0.2; done
        now_ms t0
        if ((k % 2 == 1)); then
            # nat1, active, is lost: nat2 takes over; nat1 comes back a standby.
            ha_kill_instance 1
            wait_for 20 egress_is_eip || fail "failover $k: no egress within 20 s of losing nat1: $(ha_field 2 high_availability.status)"
            now_ms t1
            wait_for 10 ha_is 2 active ready || fail "failover $k: nat2 is not the ready active NAT: $WAITED"
            [[ $(ha_route_owner) == "$ENI_PRIV2" ]] || fail "failover $k: EC2 routes to $(ha_route_owner), not nat2"
            timing "failover $k: nat1 lost -> egress through nat2" $((t1 - t0))
            ha_revive 1 "$(ha_config 10.0.1.12 150)"
            wait_for 20 ha_is 1 standby ready || fail "failover $k: nat1 back is not a ready standby: $WAITED"
            role=active
        else
            # nat2 hands the role back to nat1 (planned), and stays a standby.
            ha_ctl 2 ha handover
            ((CTL_RC == 0)) || fail "failover $k: natd-ctl ha handover on nat2 exited $CTL_RC: $CTL_OUT"
            now_ms t1
            timing "failover $k: natd-ctl ha handover nat2 -> nat1" $((t1 - t0))
            wait_for 10 ha_is 1 active ready || fail "failover $k: nat1 is not the ready active NAT: $WAITED"
            wait_for 10 ha_is 2 standby ready || fail "failover $k: nat2 is not a ready standby: $WAITED"
            [[ $(ha_route_owner) == "$ENI_PRIV1" ]] || fail "failover $k: EC2 routes to $(ha_route_owner), not nat1"
            wait_for 10 egress_is_eip || fail "failover $k: no egress as $HA_EIP through nat1"
            role=standby
        fi
        sample "$SOAK_PID" "ha, failover $k (nat2 $role)"
        rss[k]=$RSS_KB fds[k]=$FDS
        pass "failover $k: nat2 $role, egress as $HA_EIP, EC2 agrees"
    done
    k=$failovers
    # The warm-up: the first two failovers. nat2's footprint depends on its
    # role, so the last sample is compared with the warm-up's of the same role.
    local warm=$((k % 2 == 1 ? 1 : 2))
    figure "ha: $k failovers in" $((SECONDS - t_start)) s
    bounds "ha ($k failovers, nat2 $role; against failover $warm)" "${rss[warm]}" "${fds[warm]}"
    # nat2's natd (and nat1's last) exit on SIGTERM: LeakSanitizer's check.
    local n pid
    for n in 1 2; do
        pid=$(<"$T/natd$n.pid")
        kill -TERM "$pid"
        wait_exit "$pid" 10 || fail "nat$n's natd did not exit within 10s of SIGTERM"
        ((EXIT_RC == 0)) || fail "nat$n's natd exited $EXIT_RC on SIGTERM"
    done
    pass "ha: $k failovers every ${SOAK_HA_PERIOD}s, nat2's natd through all of them; both natd exited 0 on SIGTERM"
}

case $mode in
    drift) soak_drift "$@" ;;
    eni) soak_eni "$@" ;;
    ha) soak_ha "$@" ;;
esac
