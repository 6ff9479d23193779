#!/usr/bin/env bash
# Start-up: process start -> READY=1 with everything already present (the
# restart after a package upgrade or a crash: natd's table, routes and
# files in place, both ENIs named), TRIALS times; and the dynamic loader's
# share of it: glibc's LD_DEBUG=statistics for `natd --version` (cycles,
# turned into time with the CPU's clock from /proc/cpuinfo: approximate),
# and the number of shared libraries natd loads.
# Start is stamped just before natd is exec'd (after the notify listener
# is up), READY=1 by notify-wait.py
# (the same realtime clock, microseconds).
# Usage: startup.sh [--quick] PATH-TO-natd [PATH-TO-natd-ctl]
#   --quick  3 trials instead of 20.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TRIALS=20
if [[ ${1:-} == --quick ]]; then
    TRIALS=3
    shift
fi
# shellcheck source=tests/integration/drift-lib.sh
source "$BENCH_DIR/../tests/integration/drift-lib.sh"
# shellcheck source=bench/bench-lib.sh
source "$BENCH_DIR/bench-lib.sh"

drift_init bench.startup "$@"
drift_vpc
drift_ready

starts=()
for ((i = 1; i <= TRIALS; i++)); do
    natd_stop
    natd_start
    natd_wait_ready
    starts+=($((READY_US - NATD_EXEC_US)))
    info "trial $i: start -> READY=1 $(us_to_ms "${starts[-1]}") ms"
done
grep -q 'replaced\|Replacing' "$T/natd.log" && info "note: a restart replaced something (see natd.log)"
s50=$(quantile 0.5 "${starts[@]}")
result startup.start_to_ready_p50_ms "$(us_to_ms "$s50")" ms lower -
result startup.start_to_ready_max_ms "$(us_to_ms "$(quantile 1 "${starts[@]}")")" ms lower -

# What of that is the lab's: `ip netns exec` (mount namespace, sysfs)
# before natd runs at all.
execs=()
for ((i = 0; i < 20; i++)); do
    t0=${EPOCHREALTIME//[.,]/}
    ip netns exec "$NS_NAT" /bin/true
    t1=${EPOCHREALTIME//[.,]/}
    execs+=($((t1 - t0)))
done
result startup.netns_exec_true_ms "$(us_to_ms "$(quantile 0.5 "${execs[@]}")")" ms lower -

# The dynamic loader.
libs=$(ldd "$NATD" | grep -c '=> /' || true)
result startup.shared_libraries "$libs" count lower -
loader_cycles=()
for ((i = 0; i < 20; i++)); do
    c=$(LD_DEBUG=statistics "$NATD" --version 2>&1 >/dev/null |
        awk '/total startup time in dynamic loader/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }')
    [[ -n $c ]] && loader_cycles+=("$c")
done
((${#loader_cycles[@]})) || fail "LD_DEBUG=statistics printed no loader time"
mhz=$(awk -F: '/^cpu MHz/ { gsub(/ /, "", $2); print $2; exit }' /proc/cpuinfo)
c50=$(quantile 0.5 "${loader_cycles[@]}")
loader_us=$("$PY" -c "print(f'{$c50 / $mhz:.1f}')")
result startup.dynamic_loader_us "$loader_us" us lower -
result startup.dynamic_loader_share "$(ratio "$loader_us" "$s50")" ratio lower -
note startup "$TRIALS restarts with everything in place (start includes ip netns exec, timed alone as netns_exec_true_ms); loader: median of 20 LD_DEBUG=statistics runs of natd --version, $c50 cycles at ${mhz} MHz; $libs shared libraries"
pass "start-up measured"
