#!/usr/bin/env bash
# Reaction latency and apply cost, natd against the script it replaces
# (bench/baseline/nat-userdata.sh), in the simulated VPC of the integration
# tests without networkd (natd installs the return routes itself). The
# private ENI (ens6, with its address) is plugged once; each trial starts
# from nothing (natd --teardown, the baseline's iptables tables deleted, the
# altname removed), starts natd or the script, then adds the altname, the
# last thing amazon-ec2-net-utils does. Every interval comes from the stamps
# of drift-monitor.py (one netlink listener in the NAT namespace: the
# altname's RTM_NEWLINK, nftables transactions with the process behind
# them, routes), or for natd's readiness from notify-wait.py's stamp of
# READY=1 (same clock).
#
#   reaction  altname added -> natd's table and every return route in the
#             kernel (TRIALS trials, 2 return routes); the baseline: altname
#             added -> its last iptables rule (its 3 s poll; the altname is
#             added at a uniformly random moment of the poll, as an ENI
#             attaches whenever it does). The baseline's return routes come
#             later still, from networkd's reload, and are not counted.
#   apply     altname added -> READY=1 (applied, read back and verified,
#             sysctl and networkd drop-ins written) for 1, 10, 100 and 250
#             return routes (APPLY_TRIALS trials each, medians); the
#             baseline's wall time for the same with its poll removed
#             (POLL_SECONDS=0, the altname already there). Per-route costs
#             are least-squares slopes.
#
# The baseline needs the legacy altnames device-number-0/-1 (its
# `ip addr show device-number-1` finds nothing under amazon-ec2-net-utils
# 2.5's device-number-1.0: the breakage natd fixes), so its trials use
# those and natd's device-number-1.0.
#
# Usage: reaction.sh [--quick] PATH-TO-natd [PATH-TO-natd-ctl]
#   --quick  3 + 1 reaction trials and 3 apply trials per size (a median, so
#            one preempted trial on a loaded machine is not the figure the
#            regression guard sees): proves it runs.
# Prints RESULT/NOTE lines (bench/bench-lib.sh). Root; exit 77 = skipped
# (never when CI=true). Only traffic between the namespaces it creates.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TRIALS=50
BASELINE_TRIALS=20
APPLY_TRIALS=10
SIZES=(1 10 100 250)
if [[ ${1:-} == --quick ]]; then
    TRIALS=3 BASELINE_TRIALS=1 APPLY_TRIALS=3
    shift
fi

# shellcheck source=tests/integration/drift-lib.sh
source "$BENCH_DIR/../tests/integration/drift-lib.sh"
# shellcheck source=bench/bench-lib.sh
source "$BENCH_DIR/bench-lib.sh"
BASELINE=$BENCH_DIR/baseline/nat-userdata.sh
ENI_STEP_DELAY=0

drift_init bench.reaction "$@"
command -v iptables >/dev/null || fail "iptables is missing: run tests/install-deps.sh"
drift_vpc
# The baseline's name for the public ENI, beside device-number-0.0.
ip -n "$NS_NAT" link property add dev "$PUB_DEV" altname device-number-0
eni_plug
mon_start
IFX=$(ifindex_of "$PRIV_DEV")

# Shims for what the baseline calls and this VPC has not: no package
# manager, no systemd as PID 1, no networkd.
SHIMS=$T/shims
mkdir -p "$SHIMS"
for cmd in yum systemctl service networkctl; do
    printf '#!/bin/sh\nexit 0\n' >"$SHIMS/$cmd"
    chmod +x "$SHIMS/$cmd"
done

# subnets N: the NAT's own subnet and N others (N return routes).
subnets() {
    local n=$1 i list="10.0.1.0/24 10.0.2.0/24 10.0.3.0/24"
    ((n >= 2)) || list="10.0.1.0/24 10.0.2.0/24"
    for ((i = 0; i < n - 2; i++)); do
        list+=" 10.$((1 + i / 256)).$((i % 256)).0/24"
    done
    echo "$list"
}

altname_del() {
    ip -n "$NS_NAT" link property del dev "$PRIV_DEV" altname "$1" 2>/dev/null || true
}

# clean: nothing of natd's or the baseline's left; no altname on ens6.
clean() {
    ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" --teardown >>"$T/teardown.log" 2>&1 ||
        fail "natd --teardown failed: $(tail -n 5 "$T/teardown.log")"
    local t
    for t in nat filter; do ip netns exec "$NS_NAT" nft delete table ip "$t" 2>/dev/null || true; done
    rm -rf "$T/baseline-root"
    altname_del device-number-1.0
    altname_del device-number-1
}

# natd_wait_status ERE: natd's notifications until a STATUS= matching ERE.
natd_wait_status() {
    local kind rest
    while read -r -t 10 -u "$NOTIFY_FD" kind rest; do
        [[ $kind == MSG ]] || fail "notify-wait.py said '$kind $rest' before natd reported /$1/"
        echo "$rest" >>"$T/notify.log"
        [[ $rest =~ $1 ]] && return 0
    done
    fail "natd reported no status matching /$1/ within 10 s"
}

# altname_added NAME: add the altname; T0_US is the stamp of its RTM_NEWLINK.
altname_added() {
    mon_drain
    ip -n "$NS_NAT" link property add dev "$PRIV_DEV" altname "$1"
    mon_must 5 "^[0-9]+ link new $IFX $PRIV_DEV .*altnames=([^ ]*,)?${1//./\\.}(,| |$)" "the altname $1"
    T0_US=$MON_US
}

# natd_trial N: one natd run with N return routes. Sets KERNEL_US (altname
# -> table and every route in the kernel) and READY_US_DELTA (-> READY=1).
natd_trial() {
    local n=$1 routes=0 table=0
    clean
    write_config etc/natd/natd.conf <<EOF2
[Interfaces]
WaitTimeoutSec=60s

[Routes]
Subnets=$(subnets "$n")
EOF2
    natd_start
    natd_wait_status 'Waiting for private interface'
    altname_added device-number-1.0
    local last=$T0_US first_route=0
    while ((table == 0 || routes < n)); do
        mon_must 10 "^[0-9]+ (nft $NATD_PID natd .*NEWTABLE:ip:natd( |$)|route add [0-9./]+ dev $IFX proto $NATD_PROTO )" \
            "natd's table and $n routes (seen: table $table, routes $routes)"
        if [[ $MON_LINE == *" nft "* ]]; then
            table=1
            TABLE_US=$((MON_US - T0_US))
        else
            routes=$((routes + 1))
            ((first_route)) || first_route=$MON_US
        fi
        last=$MON_US
    done
    KERNEL_US=$((last - T0_US))
    ROUTES_SPAN_US=$((last - first_route))
    natd_wait_ready
    READY_US_DELTA=$((READY_US - T0_US))
    natd_stop
}

# baseline_trial: the script with its poll; BASELINE_US is altname added ->
# its last iptables rule.
baseline_trial() {
    clean
    local delay_ms=$((SRANDOM % 3000)) pid forward=0 nat=0 subs
    read -ra subs <<<"$SUBNETS"
    ip netns exec "$NS_NAT" env PATH="$SHIMS:$PATH" BASELINE_ROOT="$T/baseline-root" \
        bash "$BASELINE" "${subs[@]}" >>"$T/baseline.log" 2>&1 &
    pid=$!
    # The ENI's moment within the script's poll: the experiment's random
    # phase, not a wait for anything.
    sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
    altname_added device-number-1
    while ((forward < 2 || nat < 1)); do
        mon_must 40 "^[0-9]+ nft [0-9]+ [^ ]+ .*NEWRULE:ip:(filter:FORWARD|nat:POSTROUTING)" \
            "the baseline's iptables rules (forward $forward, nat $nat)"
        local op
        for op in $MON_LINE; do
            case $op in
                NEWRULE:ip:nat:POSTROUTING) nat=$((nat + 1)) ;;
                NEWRULE:ip:filter:FORWARD) forward=$((forward + 1)) ;;
            esac
        done
    done
    BASELINE_US=$((MON_US - T0_US))
    wait_exit "$pid" 40 || fail "the baseline script did not end"
    ((EXIT_RC == 0)) || fail "the baseline script exited $EXIT_RC: $(tail -n 5 "$T/baseline.log")"
}

# baseline_apply N: wall time of the script, poll removed, N return routes.
baseline_apply() {
    local n=$1 t0 t1 subs
    clean
    ip -n "$NS_NAT" link property add dev "$PRIV_DEV" altname device-number-1
    read -ra subs <<<"$(subnets "$n")"
    t0=${EPOCHREALTIME//[.,]/}
    ip netns exec "$NS_NAT" env PATH="$SHIMS:$PATH" BASELINE_ROOT="$T/baseline-root" POLL_SECONDS=0 \
        bash "$BASELINE" "${subs[@]}" >>"$T/baseline.log" 2>&1 ||
        fail "the baseline script failed: $(tail -n 5 "$T/baseline.log")"
    t1=${EPOCHREALTIME//[.,]/}
    local got
    got=$(grep -c '^Destination=' "$T/baseline-root/etc/systemd/network/70-$PRIV_DEV.network.d/routes.conf")
    ((got == n)) || fail "the baseline wrote $got routes, expected $n"
    APPLY_BASELINE_US=$((t1 - t0))
}

# --- reaction ----------------------------------------------------------------------
natd_us=() baseline_us=()
for ((i = 1; i <= TRIALS; i++)); do
    natd_trial 2
    natd_us+=("$KERNEL_US")
    info "reaction trial $i: natd $(us_to_ms "$KERNEL_US") ms"
    if ((i <= BASELINE_TRIALS)); then
        baseline_trial
        baseline_us+=("$BASELINE_US")
        info "reaction trial $i: baseline $(us_to_ms "$BASELINE_US") ms"
    fi
done
n50=$(quantile 0.5 "${natd_us[@]}") n99=$(quantile 0.99 "${natd_us[@]}")
b50=$(quantile 0.5 "${baseline_us[@]}")
result reaction.natd_p50_ms "$(us_to_ms "$n50")" ms lower -
result reaction.natd_p99_ms "$(us_to_ms "$n99")" ms lower "<=2"
result reaction.natd_max_ms "$(us_to_ms "$(quantile 1 "${natd_us[@]}")")" ms lower -
result reaction.baseline_p50_ms "$(us_to_ms "$b50")" ms lower -
result reaction.baseline_p99_ms "$(us_to_ms "$(quantile 0.99 "${baseline_us[@]}")")" ms lower -
result reaction.baseline_to_natd_p50 "$(ratio "$b50" "$n50")" ratio higher -
note reaction "$TRIALS natd trials, $BASELINE_TRIALS baseline trials, interleaved; 2 return routes; natd: altname -> table and routes in the kernel; baseline: altname -> its last iptables rule (its routes wait for networkd's reload, not counted)"

# --- apply cost ---------------------------------------------------------------------
declare -A apply_natd apply_base apply_table apply_routes apply_kernel
for ((i = 1; i <= APPLY_TRIALS; i++)); do
    for ((k = 0; k < ${#SIZES[@]}; k++)); do
        n=${SIZES[$(((k + i - 1) % ${#SIZES[@]}))]}
        natd_trial "$n"
        apply_natd[$n]+=" $READY_US_DELTA"
        apply_table[$n]+=" $TABLE_US"
        apply_routes[$n]+=" $ROUTES_SPAN_US"
        apply_kernel[$n]+=" $KERNEL_US"
        baseline_apply "$n"
        apply_base[$n]+=" $APPLY_BASELINE_US"
        info "apply trial $i, $n routes: natd $(us_to_ms "$READY_US_DELTA") ms (kernel $(us_to_ms "$KERNEL_US") ms), baseline $(us_to_ms "$APPLY_BASELINE_US") ms"
    done
done
natd_pts=() base_pts=()
for n in "${SIZES[@]}"; do
    # shellcheck disable=SC2086 # the trials, one argument each
    m=$(quantile 0.5 ${apply_natd[$n]})
    # shellcheck disable=SC2086
    b=$(quantile 0.5 ${apply_base[$n]})
    natd_pts+=("$n:$m") base_pts+=("$n:$b")
    target=-
    ((n == 250)) && target="<=3"
    result "apply.natd_${n}_routes_ms" "$(us_to_ms "$m")" ms lower "$target"
    result "apply.baseline_${n}_routes_ms" "$(us_to_ms "$b")" ms lower -
    # Where natd's time goes: the table's transaction, the routes (one
    # request each), and all in the kernel; the rest to READY=1 is the
    # read-back, the verification and the files.
    # shellcheck disable=SC2086
    result "apply.natd_${n}_routes_table_at_ms" "$(us_to_ms "$(quantile 0.5 ${apply_table[$n]})")" ms lower -
    # shellcheck disable=SC2086
    result "apply.natd_${n}_routes_route_span_ms" "$(us_to_ms "$(quantile 0.5 ${apply_routes[$n]})")" ms lower -
    # shellcheck disable=SC2086
    result "apply.natd_${n}_routes_kernel_ms" "$(us_to_ms "$(quantile 0.5 ${apply_kernel[$n]})")" ms lower -
done
read -r nslope nicpt nr2 <<<"$(linear_fit "${natd_pts[@]}")"
read -r bslope bicpt _ <<<"$(linear_fit "${base_pts[@]}")"
result apply.natd_per_route_us "$(printf '%.2f' "$nslope")" us lower -
result apply.natd_fixed_ms "$(us_to_ms "$nicpt")" ms lower -
result apply.natd_linear_fit_r2 "$nr2" r2 higher ">=0.95"
result apply.baseline_per_route_us "$(printf '%.2f' "$bslope")" us lower -
result apply.baseline_fixed_ms "$(us_to_ms "$bicpt")" ms lower -
result apply.per_route_baseline_to_natd "$(ratio "$bslope" "$nslope")" ratio higher ">=100"
note apply "altname added -> READY=1 (applied, verified, drop-ins written), medians of $APPLY_TRIALS trials per size; baseline: the whole script with POLL_SECONDS=0 (its routes are 4 echo lines each in a drop-in, installed later by networkd, not timed)"
pass "reaction and apply cost measured"
