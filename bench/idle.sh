#!/usr/bin/env bash
# Idle cost: what natd costs the instance while nothing happens, in the
# simulated VPC without networkd (natd on a private bus; nothing asks natd
# anything during a window):
#   ready    WINDOW s with NAT up and verified;
#   waiting  WINDOW s waiting for a private ENI that never comes (detached).
# From /proc/<pid>: CPU time (utime + stime, clock ticks), wake-ups
# (voluntary + involuntary context switches: natd blocks in epoll, so each
# wake-up is one switch), VmRSS and VmHWM at the end. No watchdog is set
# (no WATCHDOG_USEC), so none of the wake-ups are its.
# Usage: idle.sh [--quick] PATH-TO-natd [PATH-TO-natd-ctl]
#   --quick  5 s windows instead of 60 s.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WINDOW=60
if [[ ${1:-} == --quick ]]; then
    WINDOW=5
    shift
fi
# shellcheck source=tests/integration/drift-lib.sh
source "$BENCH_DIR/../tests/integration/drift-lib.sh"
# shellcheck source=bench/bench-lib.sh
source "$BENCH_DIR/bench-lib.sh"

drift_init bench.idle "$@"
drift_vpc
# Without IMDS: in this lab the NAT namespace's link to a fake IMDS has a
# MAC IMDS would not list, which makes natd ask again 8 times over 55 s
# (as it should for a freshly attached ENI); unreachable, natd asks every
# minute. Neither happens on EC2 once natd has its answer.
printf '%s\n' '' '[Discovery]' 'IMDS=no' >>"$ROOT/etc/natd/natd.conf"
# The waiting window must not end in natd's WaitTimeoutSec= (60 s here).
sed -i 's/^WaitTimeoutSec=.*/WaitTimeoutSec=infinity/' "$ROOT/etc/natd/natd.conf"
grep -qx 'WaitTimeoutSec=infinity' "$ROOT/etc/natd/natd.conf" || fail "WaitTimeoutSec= not found in natd.conf"

# switches: voluntary + involuntary context switches of natd so far.
switches() {
    awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n }' "/proc/$NATD_PID/status"
}
# status_kib FIELD: a VmRSS-like field of natd, in KiB.
status_kib() {
    awk -v f="$1:" '$1 == f { print $2 }' "/proc/$NATD_PID/status"
}

# window LABEL: WINDOW seconds of natd left alone; prints the figures.
window() {
    local label=$1 c0 s0 c1 s1 hz
    hz=$(getconf CLK_TCK)
    c0=$(natd_cpu_ticks) s0=$(switches)
    # The measurement window itself: natd is watched, not waited for.
    sleep "$WINDOW"
    c1=$(natd_cpu_ticks) s1=$(switches)
    natd_alive || fail "natd exited during the $label window"
    local rss hwm
    rss=$(status_kib VmRSS) hwm=$(status_kib VmHWM)
    info "$label: ${WINDOW}s: $((c1 - c0)) ticks (1/$hz s), $((s1 - s0)) wake-ups, RSS $rss KiB, peak $hwm KiB"
    result "idle.${label}_cpu_ticks" $((c1 - c0)) ticks lower "<=0"
    result "idle.${label}_wakeups" $((s1 - s0)) count lower "<=0"
    result "idle.${label}_rss_mib" "$("$PY" -c "print(f'{$rss / 1024:.2f}')")" MiB lower "<=8"
    result "idle.${label}_peak_rss_mib" "$("$PY" -c "print(f'{$hwm / 1024:.2f}')")" MiB lower -
    # Of the RSS: natd's own memory (heap, stacks) and pages of mapped files
    # (the executable and its shared libraries, shared with other processes).
    result "idle.${label}_rss_anon_mib" "$("$PY" -c "print(f'{$(status_kib RssAnon) / 1024:.2f}')")" MiB lower -
    result "idle.${label}_rss_file_mib" "$("$PY" -c "print(f'{$(status_kib RssFile) / 1024:.2f}')")" MiB lower -
}

drift_ready
# What starting and the apply did is over once the state is settled.
ctl_status 0
window ready

natd_stop
ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" --teardown >>"$T/teardown.log" 2>&1 || fail "natd --teardown failed"
ip -n "$NS_NAT" link del "$PRIV_DEV"
natd_start
notify_status=
while read -r -t 10 -u "$NOTIFY_FD" kind rest; do
    [[ $kind == MSG ]] || fail "notify-wait.py said '$kind $rest' while natd should wait"
    echo "$rest" >>"$T/notify.log"
    if [[ $rest == *Waiting* ]]; then notify_status=$rest; break; fi
done
[[ -n $notify_status ]] || fail "natd did not report waiting within 10 s"
info "natd: ${notify_status#* }"
window waiting
note idle "$WINDOW s windows; wake-ups are context switches from /proc/<pid>/status; no watchdog (WATCHDOG_USEC unset); IMDS=no (see the script); waiting: the private ENI detached"
pass "idle cost measured"
