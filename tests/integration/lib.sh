# shellcheck shell=bash
# Shared pieces of natd's integration tests: a simulated AWS VPC built from
# network namespaces and veth pairs, natd's start/readiness plumbing, and the
# checks. Sourced by the per-variant scripts and by tests/demo.sh.
#
#   internet ns            NAT instance ns                VPC router ns          private hosts
#   igw0 203.0.113.1 ---- ens5 203.0.113.10 (public ENI)
#   echo-ip HTTP :80       ens6 10.0.1.10 ------------ r-nat 10.0.1.1
#                          (private ENI, attached       r-h2  10.0.2.1 ----- eth0 10.0.2.10 (h2)
#                           after natd starts)          r-h3  10.0.3.1 ----- eth0 10.0.3.10 (h3)
#                                                       default via 10.0.1.10
#
# Every name is prefixed with natd-<pid>- so runs can overlap; on_exit (an
# EXIT trap) kills what the run started and deletes its namespaces.

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3

INET_IP=203.0.113.1
PUB_IP=203.0.113.10
PRIV_IP=10.0.1.10
PRIV_GW=10.0.1.1
PRIV_MAC=02:00:0a:00:01:0a
PUB_DEV=ens5
PRIV_DEV=ens6
SUBNETS="10.0.1.0/24 10.0.2.0/24 10.0.3.0/24"
HOST_NETS=(2 3)  # private host h<N> is 10.0.<N>.10 behind router 10.0.<N>.1

# Deliberate pauses that imitate the real world (not synchronization):
# natd gets time to settle into waiting, and the ENI shows up in stages the way
# EC2 hot-plug + udev rename + DHCP + amazon-ec2-net-utils make it appear.
NATD_SETTLE=${NATD_SETTLE:-0.5}
ENI_STEP_DELAY=${ENI_STEP_DELAY:-0.3}
READY_TIMEOUT=${READY_TIMEOUT:-30}  # seconds for natd to report READY=1

TEST_NAME=${TEST_NAME:-integration}
# Seconds each helper a test starts (echo server, fake IMDS, event monitor)
# lives at most, so that a killed run leaves nothing behind for long. A run
# longer than this (the full soak) sets it before sourcing this file.
HELPER_LIFETIME=${HELPER_LIFETIME:-900}
NAMESPACES=()
TIMINGS=()
CHECKS_PASSED=0
NATD_PID=
NOTIFY_PID=
NOTIFY_FD=
DRAINER_PID=
T=
SANITIZED=          # natd is a sanitizer build (sanitizer_setup)
SANITIZER_REPORTS=0 # how many report files cleanup found
NATD_REAL_EXE=

# --- output ---------------------------------------------------------------

info() { printf '[%s] %s\n' "$TEST_NAME" "$*"; }
pass() {
    CHECKS_PASSED=$((CHECKS_PASSED + 1))
    printf '[%s] PASS %s\n' "$TEST_NAME" "$*"
}
fail() {
    printf '[%s] FAIL %s\n' "$TEST_NAME" "$*" >&2
    exit 1
}
# now_ms VAR: realtime clock in ms, the clock notify-wait.py stamps with.
now_ms() {
    local us=${EPOCHREALTIME//[.,]/}
    printf -v "$1" '%s' "$((10#$us / 1000))"
}
# timing LABEL MS: record and print a measured figure.
timing() {
    TIMINGS+=("$1: $2 ms")
    printf '[%s] TIMING %s: %s ms\n' "$TEST_NAME" "$1" "$2"
}

# --- setup and teardown ---------------------------------------------------

skip_or_fail() {
    if [[ ${CI:-} == true ]]; then
        fail "$1 (CI=true: integration tests must run in CI, refusing to skip)"
    fi
    printf '[%s] SKIP %s\n' "$TEST_NAME" "$1"
    exit 77
}

# lib_init TEST_NAME NATD_BINARY: preconditions, scratch dir, cleanup trap.
lib_init() {
    TEST_NAME=$1
    NATD=${2:-}
    [[ -n $NATD ]] || fail "usage: $0 PATH-TO-natd"
    [[ -x $NATD ]] || fail "natd binary '$NATD' does not exist or is not executable"
    NATD=$(realpath "$NATD")
    if [[ $EUID -ne 0 ]]; then
        skip_or_fail "needs root (network namespaces, nftables, sysctl)"
    fi
    local tool
    for tool in ip nft curl sysctl timeout sha256sum "$PY"; do
        command -v "$tool" >/dev/null || fail "'$tool' is missing: run tests/install-deps.sh"
    done
    PFX=natd-$$-
    local err
    if ! err=$(ip netns add "${PFX}probe" 2>&1); then
        skip_or_fail "cannot create network namespaces: $err"
    fi
    ip netns del "${PFX}probe"
    remove_stale_namespaces
    T=$(mktemp -d /tmp/natd-it.XXXXXX)
    ROOT=$T/root
    mkdir -p "$ROOT/etc/natd"
    sanitizer_setup
    trap on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    info "natd: $NATD; scratch: $T; namespaces: ${PFX}*${SANITIZED:+; sanitizer build, reports in $T/sanitizer}"
}

# --- sanitizers ------------------------------------------------------------
# A natd built with NATD_SANITIZE=ON (AddressSanitizer, LeakSanitizer,
# UndefinedBehaviorSanitizer) needs libasan. Then every sanitized program the
# test starts -- natd, natd-ctl, the probes, and the natd-ctl keepalived runs
# as its notify hook (keepalived passes its environment on to its scripts) --
# inherits these options: the first error aborts the process, and the report
# goes to a file of its own ($T/sanitizer/report.<pid>) rather than to a log
# a test may never show. cleanup stops natd with SIGTERM first (LeakSanitizer
# runs at exit; a SIGKILLed natd reports nothing) and on_exit fails the test,
# printing every report, whatever the test's own verdict was.
SANITIZER_SUPPRESSIONS=$INTEG_DIR/../sanitizer/lsan.supp
sanitizer_setup() {
    # Not `ldd | grep -q`: grep -q exits at the first match, ldd may then die
    # of SIGPIPE, and with pipefail the build would pass for a plain one.
    local libs
    libs=$(ldd "$NATD" 2>/dev/null) || true
    [[ $libs == *libasan.so* ]] || return 0
    SANITIZED=1
    NATD_REAL_EXE=$NATD  # tests may run natd through a wrapper (unit-file.sh)
    mkdir -p "$T/sanitizer"
    local common="log_path=$T/sanitizer/report:halt_on_error=1:abort_on_error=1:print_stacktrace=1:disable_coredump=1"
    # ${NATD_ASAN_EXTRA}: more options from the caller (soak.sh: a small
    # quarantine, so that freed memory parked by ASan does not read as growth).
    export ASAN_OPTIONS="$common:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1${NATD_ASAN_EXTRA:+:$NATD_ASAN_EXTRA}"
    export UBSAN_OPTIONS="$common"
    local supp
    supp=$(realpath "$SANITIZER_SUPPRESSIONS")
    export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
}

# sanitizer_stop_natd: SIGTERM to every natd in the run's namespaces (also
# those the HA tests start, which are not NATD_PID), then wait for them to
# exit, at most 30 s in all: LeakSanitizer's scan at exit takes half a second
# on an idle machine, and well over 10 s at nice 19 beside a busy CI run.
sanitizer_stop_natd() {
    local ns pid pids=() deadline=$((SECONDS + 30))
    for ns in "${NAMESPACES[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$NATD_REAL_EXE" ]] || continue
            kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
        done
    done
    for pid in "${pids[@]}"; do
        while running "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
        ! running "$pid" ||
            printf '[%s] natd (pid %s) did not exit within 30 s of SIGTERM: no leak check for it\n' "$TEST_NAME" "$pid" >&2
    done
    # Reap natd if it is this shell's child and has exited (one still
    # running is SIGKILLed by cleanup).
    if [[ -n $NATD_PID ]] && ! running "$NATD_PID"; then
        wait "$NATD_PID" 2>/dev/null
        NATD_PID=
    fi
    return 0
}

# running PID: the process exists and is not a zombie.
running() {
    [[ -r /proc/$1/stat ]] || return 1
    local stat
    stat=$(<"/proc/$1/stat") 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# sanitizer_collect: print every sanitizer report of the run to stderr and
# count them in SANITIZER_REPORTS.
sanitizer_collect() {
    [[ -n $SANITIZED && -d $T/sanitizer ]] || return 0
    local f
    for f in "$T"/sanitizer/report.*; do
        [[ -e $f ]] || continue
        SANITIZER_REPORTS=$((SANITIZER_REPORTS + 1))
        {
            printf '[%s] FAIL sanitizer report %s:\n' "$TEST_NAME" "${f##*/}"
            cat "$f"
        } >&2
    done
}

# Namespaces left by a run that was killed before its trap ran (the pid in
# the name no longer exists). Its helpers end by themselves (bounded lifetime).
remove_stale_namespaces() {
    local ns pid
    for ns in $(ip netns list | awk '{print $1}'); do
        [[ $ns =~ ^natd-([0-9]+)- ]] || continue
        pid=${BASH_REMATCH[1]}
        if ! kill -0 "$pid" 2>/dev/null; then
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
}

on_exit() {
    local rc=$?
    set +e
    if ((rc != 0 && rc != 77)); then
        dump_diagnostics >&2
    fi
    local n=${#NAMESPACES[@]}
    cleanup
    ((n == 0)) || info "cleaned up: $n namespaces deleted, helpers stopped"
    if ((SANITIZER_REPORTS > 0)); then
        printf '[%s] FAIL %s sanitizer report(s) (above): a memory error, leak or undefined behaviour\n' \
            "$TEST_NAME" "$SANITIZER_REPORTS" >&2
        rc=1
    fi
    if ((${#TIMINGS[@]})); then
        info "timing figures:"
        local t
        for t in "${TIMINGS[@]}"; do printf '[%s]   %s\n' "$TEST_NAME" "$t"; done
    fi
    if ((rc == 0)); then
        [[ $TEST_NAME == demo ]] || info "OK: $CHECKS_PASSED checks passed"
    elif ((rc != 77)); then
        info "FAILED (exit $rc) after $CHECKS_PASSED passed checks"
    fi
    exit "$rc"
}

dump_diagnostics() {
    [[ -n $T && -d $T ]] || return 0
    echo "----- diagnostics -----"
    if [[ -s $T/natd.log ]]; then
        echo "--- natd output (last 60 lines) ---"
        tail -n 60 "$T/natd.log"
    fi
    [[ -s $T/notify.log ]] && { echo "--- sd_notify messages ---"; cat "$T/notify.log"; }
    if [[ -n ${NS_NAT:-} ]] && ip netns list | grep -qw "$NS_NAT"; then
        echo "--- NAT instance: addresses ---"
        ip -n "$NS_NAT" -br addr
        echo "--- NAT instance: links ---"
        ip -n "$NS_NAT" -o link | sed 's/\\ */ /g'
        echo "--- NAT instance: routes (all tables) ---"
        ip -n "$NS_NAT" route show table all | grep -v '^local\|^broadcast\|^multicast\|^fe80\|^ff00'
        echo "--- NAT instance: net.ipv4.ip_forward = $(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward)"
        echo "--- NAT instance: nft list ruleset ---"
        ip netns exec "$NS_NAT" nft list ruleset
    fi
    echo "-----------------------"
}

cleanup() {
    [[ -z $SANITIZED ]] || sanitizer_stop_natd
    if [[ -n $NATD_PID ]] && kill -0 "$NATD_PID" 2>/dev/null; then
        kill -KILL "$NATD_PID" 2>/dev/null
        wait "$NATD_PID" 2>/dev/null
    fi
    local pid f ns
    if [[ -n $NOTIFY_PID ]]; then
        kill -KILL "$NOTIFY_PID" 2>/dev/null
        wait "$NOTIFY_PID" 2>/dev/null
    fi
    [[ -n $DRAINER_PID ]] && kill -KILL "$DRAINER_PID" 2>/dev/null
    if [[ -n $T && -d $T ]]; then
        for f in "$T"/*.server.pid; do
            [[ -s $f ]] && kill -KILL "$(<"$f")" 2>/dev/null
        done
    fi
    # Anything else still inside our namespaces was started by this run.
    for ns in "${NAMESPACES[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
    NAMESPACES=()
    [[ -n $NOTIFY_FD ]] && exec {NOTIFY_FD}>&-
    NOTIFY_FD=
    sanitizer_collect
    if [[ -n $T && -d $T && -z ${KEEP_TMP:-} ]]; then
        rm -rf "$T"
    fi
    return 0
}

# --- topology --------------------------------------------------------------

new_ns() {
    ip netns add "$1"
    NAMESPACES+=("$1")
    ip -n "$1" link set lo up
}

# start_server NS LABEL: the echo-ip HTTP server on port 80 of namespace NS.
# Returns once it listens (the script forks after bind+listen).
start_server() {
    ip netns exec "$1" "$PY" "$INTEG_DIR/echo-ip-server.py" \
        --pid-file "$T/$2.server.pid" --log "$T/$2.server.log" --lifetime "$HELPER_LIFETIME" \
        || fail "could not start the echo-ip server in namespace $1"
}

# vpc_create STYLE: everything but the NAT's private ENI. STYLE is "card"
# (altnames device-number-N.0, amazon-ec2-net-utils >= 2.5), "legacy"
# (device-number-N) or "none" (no altnames: Debian, Ubuntu).
vpc_create() {
    local style=$1
    NS_INET=${PFX}inet NS_NAT=${PFX}nat NS_RTR=${PFX}rtr
    local n
    for ns in "$NS_INET" "$NS_NAT" "$NS_RTR"; do new_ns "$ns"; done
    for n in "${HOST_NETS[@]}"; do new_ns "${PFX}h$n"; done

    # The internet (and IGW) <-> the NAT instance's public ENI.
    ip link add name "$PUB_DEV" netns "$NS_NAT" type veth peer name igw0 netns "$NS_INET"
    ip -n "$NS_INET" addr add "$INET_IP/24" dev igw0
    ip -n "$NS_INET" link set igw0 up
    ip -n "$NS_NAT" addr add "$PUB_IP/24" dev "$PUB_DEV"
    ip -n "$NS_NAT" link set "$PUB_DEV" up
    [[ $style == none ]] || ip -n "$NS_NAT" link property add dev "$PUB_DEV" altname "$(altname_for 0 "$style")"
    ip -n "$NS_NAT" route add default via "$INET_IP"
    ip netns exec "$NS_NAT" sysctl -q -w net.ipv4.ip_forward=0

    # The VPC router (the private subnets' route tables) and the private hosts.
    ip netns exec "$NS_RTR" sysctl -q -w net.ipv4.ip_forward=1
    for n in "${HOST_NETS[@]}"; do private_host_add "$n"; done

    start_server "$NS_INET" internet
    # The listener check 2 tries to reach from the internet.
    start_server "${PFX}h2" h2
    info "simulated VPC built: internet $INET_IP, NAT public ENI $PUB_DEV $PUB_IP ($(altname_for 0 "$style")), private hosts $(printf '10.0.%s.10 ' "${HOST_NETS[@]}")"
}

# private_host_add N: private host h<N> (namespace ${PFX}h<N>, created
# before) at 10.0.<N>.10 behind the VPC router's r-h<N> 10.0.<N>.1.
private_host_add() {
    local n=$1
    ip link add name "r-h$n" netns "$NS_RTR" type veth peer name eth0 netns "${PFX}h$n"
    ip -n "$NS_RTR" addr add "10.0.$n.1/24" dev "r-h$n"
    ip -n "$NS_RTR" link set "r-h$n" up
    ip -n "${PFX}h$n" addr add "10.0.$n.10/24" dev eth0
    ip -n "${PFX}h$n" link set eth0 up
    ip -n "${PFX}h$n" route add default via "10.0.$n.1"
}

# altname_for DEVICE_NUMBER STYLE
altname_for() {
    case $2 in
        none) echo "no altname" ;;
        card) echo "device-number-$1.0" ;;
        legacy) echo "device-number-$1" ;;
        *) fail "altname_for: unknown style '$2'" ;;
    esac
}

# eni_plug [noaddr]: hot-plug the private ENI (fixed MAC $PRIV_MAC) the way
# EC2 + udev + DHCP do: a new link "eth1", renamed to ens6, brought up, given
# its address (unless noaddr). Sets ENI_LINK_MS and ENI_ADDR_MS.
# shellcheck disable=SC2120 # the argument is optional
eni_plug() {
    ip link add name eth1 address "$PRIV_MAC" netns "$NS_NAT" type veth peer name r-nat netns "$NS_RTR"
    ip -n "$NS_RTR" addr add "$PRIV_GW/24" dev r-nat
    ip -n "$NS_RTR" link set r-nat up
    ip -n "$NS_RTR" route add default via "$PRIV_IP"
    now_ms ENI_LINK_MS
    ip -n "$NS_NAT" link set eth1 name "$PRIV_DEV"
    sleep "$ENI_STEP_DELAY"
    ip -n "$NS_NAT" link set "$PRIV_DEV" up
    if [[ ${1:-} == noaddr ]]; then
        info "private ENI attached: $PRIV_DEV $PRIV_MAC without an IPv4 address"
        return
    fi
    now_ms ENI_ADDR_MS
    ip -n "$NS_NAT" addr add "$PRIV_IP/24" dev "$PRIV_DEV"
    info "private ENI attached: $PRIV_DEV $PRIV_MAC $PRIV_IP/24 (no altname yet)"
}

# eni_name STYLE: give the private ENI its altname, as amazon-ec2-net-utils
# does after DHCP. Sets ENI_ALTNAME_MS (taken just before the change).
eni_name() {
    local name
    name=$(altname_for 1 "$1")
    sleep "$ENI_STEP_DELAY"
    now_ms ENI_ALTNAME_MS
    ip -n "$NS_NAT" link property add dev "$PRIV_DEV" altname "$name"
    info "private ENI altname added: $name"
}

# imds_create METADATA-JSON: a fake instance metadata service
# (fake-imds.py: IMDSv2 enforced) in namespace ${PFX}imds, reachable from the
# NAT instance at 169.254.169.254 over a veth (imds0, link-local /16 as on
# EC2). Its misbehaviour: imds_control JSON. Its log: $T/imds.log.
imds_create() {
    NS_IMDS=${PFX}imds
    new_ns "$NS_IMDS"
    ip link add name imds0 netns "$NS_NAT" type veth peer name eth0 netns "$NS_IMDS"
    ip -n "$NS_NAT" addr add 169.254.0.1/16 dev imds0
    ip -n "$NS_NAT" link set imds0 up
    ip -n "$NS_IMDS" addr add 169.254.169.254/16 dev eth0
    ip -n "$NS_IMDS" link set eth0 up
    imds_control '{}'
    : >"$T/imds.log"
    ip netns exec "$NS_IMDS" "$PY" "$INTEG_DIR/fake-imds.py" --metadata "$1" \
        --control "$T/imds-control.json" --log "$T/imds.log" --ready "$T/imds.ready" \
        >"$T/imds.out" 2>&1 &
    local _
    for _ in $(seq 100); do [[ -s $T/imds.ready ]] && break; sleep 0.05; done
    [[ -s $T/imds.ready ]] || fail "fake-imds.py did not start: $(cat "$T/imds.out")"
    info "fake IMDS at 169.254.169.254 (pid $(cat "$T/imds.ready"))"
}

# imds_control JSON: the fake IMDS's control file (re-read at every request).
imds_control() { printf '%s\n' "$1" >"$T/imds-control.json"; }

# write_config FILE-UNDER-ROOT: stdin becomes $ROOT/FILE.
write_config() {
    mkdir -p "$(dirname "$ROOT/$1")"
    cat >"$ROOT/$1"
}

# --- natd ------------------------------------------------------------------

# notify_listen: start notify-wait.py and wait until its socket is bound.
notify_listen() {
    mkfifo "$T/notify.fifo"
    exec {NOTIFY_FD}<>"$T/notify.fifo"
    "$PY" "$INTEG_DIR/notify-wait.py" --socket "$T/notify.sock" --timeout "$READY_TIMEOUT" \
        --pid-file "$T/natd.pid" --drain-log "$T/notify.log" \
        1>&"$NOTIFY_FD" 2>>"$T/notify-wait.err" &
    NOTIFY_PID=$!
    local line
    read -r -t 10 -u "$NOTIFY_FD" line || fail "notify-wait.py did not start: $(cat "$T/notify-wait.err")"
    [[ $line == LISTENING ]] || fail "notify-wait.py said '$line' instead of LISTENING"
}

# natd_start ARGS...: start natd in the NAT instance namespace, in the
# background, with NOTIFY_SOCKET pointing at notify-wait.py unless --once.
# shellcheck disable=SC2120 # the arguments are optional
natd_start() {
    local env=()
    if [[ " $* " != *" --once "* ]]; then
        notify_listen
        env=(NOTIFY_SOCKET="$T/notify.sock")
    fi
    info "starting: natd --root $ROOT $*"
    now_ms NATD_START_MS
    # shellcheck disable=SC2034 # for the benchmarks (bench/)
    NATD_EXEC_US=${EPOCHREALTIME//[.,]/}
    if [[ -n $NOTIFY_FD ]]; then  # keep notify-wait's fifo out of natd
        natd_exec "${env[@]}" -- "$@" {NOTIFY_FD}>&- &
    else
        natd_exec -- "$@" &
    fi
    NATD_PID=$!
    echo "$NATD_PID" >"$T/natd.pid"
}

# natd_exec [VAR=VALUE...] -- ARGS...: exec natd in the NAT instance namespace.
natd_exec() {
    local env=()
    while [[ $1 != -- ]]; do env+=("$1"); shift; done
    shift
    exec env "${env[@]}" ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" "$@" \
        </dev/null >>"$T/natd.log" 2>&1
}

# natd_alive: natd's process exists and has not exited.
natd_alive() {
    [[ -n $NATD_PID ]] && kill -0 "$NATD_PID" 2>/dev/null
}

# natd_settle WHAT: give natd a moment to settle into waiting, then make sure
# it is still there (it must wait for WHAT, not exit or give up).
natd_settle() {
    sleep "$NATD_SETTLE"
    if ! natd_alive; then
        local rc=0
        wait "$NATD_PID" || rc=$?
        NATD_PID=
        fail "natd exited (status $rc) instead of waiting for $1"
    fi
    info "natd is running and waiting for $1"
}

# natd_wait_ready: until notify-wait.py reports READY=1 (sets READY_MS),
# natd's death, or the timeout.
natd_wait_ready() {
    local kind rest rc
    while true; do
        if ! read -r -t $((READY_TIMEOUT + 10)) -u "$NOTIFY_FD" kind rest; then
            fail "notify-wait.py went silent (no READY, no timeout report)"
        fi
        case $kind in
            MSG)
                echo "$rest" >>"$T/notify.log"
                info "sd_notify from natd: ${rest#* }"
                ;;
            DRAINER) DRAINER_PID=$rest ;;
            READY)
                # "MS US": the same stamp in milliseconds and microseconds.
                READY_MS=${rest%% *}
                # shellcheck disable=SC2034 # for the benchmarks (bench/)
                READY_US=${rest#* }
                break
                ;;
            EXITED)
                rc=0
                wait "$NATD_PID" || rc=$?
                NATD_PID=
                fail "natd exited with status $rc before sending READY=1"
                ;;
            TIMEOUT) fail "natd sent no READY=1 within ${READY_TIMEOUT}s" ;;
            *) fail "notify-wait.py said '$kind $rest'" ;;
        esac
    done
    rc=0
    wait "$NOTIFY_PID" || rc=$?
    NOTIFY_PID=
    ((rc == 0)) || fail "notify-wait.py exited with $rc after READY"
    info "natd is READY"
}

# wait_exit PID TIMEOUT: wait for a child process to end, at most TIMEOUT
# seconds (then SIGKILL it and return 1). Its exit status goes to EXIT_RC.
wait_exit() {
    local pid=$1 timer which='' rc=0
    sleep "$2" &
    timer=$!
    wait -n -p which "$pid" "$timer" || rc=$?
    if [[ $which == "$timer" ]]; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        return 1
    fi
    # SIGKILL, not SIGTERM: the timer subshell may not have exec'd sleep
    # yet, and would run this script's TERM and EXIT traps (cleanup).
    kill -KILL "$timer" 2>/dev/null
    wait "$timer" 2>/dev/null
    EXIT_RC=$rc
    return 0
}

# --- checks ------------------------------------------------------------------

# nft_natd_json: `nft -j list table ip natd` in the NAT instance namespace.
nft_natd_json() {
    ip netns exec "$NS_NAT" nft -j list table ip natd 2>&1
}

# nft_counter drop|masquerade: packets counted by natd's rule.
nft_counter() {
    local json out
    json=$(nft_natd_json) || fail "check $CHECK: no nftables table 'ip natd' in the NAT instance: $json"
    out=$("$PY" "$INTEG_DIR/inspect.py" counter "$1" "$PUB_DEV" "$PRIV_DEV" <<<"$json" 2>&1) ||
        fail "check $CHECK: $out"
    echo "$out"
}

# check_egress [WHEN]: check 1, every private host reaches the internet as
# the NAT's public address, through natd's masquerade rule.
check_egress() {
    local when=${1:-} n out masq_before masq_after
    CHECK=1
    masq_before=$(nft_counter masquerade)
    for n in "${HOST_NETS[@]}"; do
        if ! out=$(ip netns exec "${PFX}h$n" curl -sS --max-time 5 "http://$INET_IP/" 2>&1); then
            fail "check 1$when: private host 10.0.$n.10 could not reach http://$INET_IP/ through the NAT: $out"
        fi
        [[ $out == "$PUB_IP" ]] ||
            fail "check 1$when: private host 10.0.$n.10 reached the internet as '$out', expected the NAT's public address $PUB_IP"
        info "10.0.$n.10 -> http://$INET_IP/ answered $out"
    done
    masq_after=$(nft_counter masquerade)
    ((masq_after > masq_before)) ||
        fail "check 1$when: natd's masquerade counter did not move ($masq_before -> $masq_after): the traffic was not NATed by natd's rule"
    pass "check 1$when: every private host reaches the internet as $PUB_IP (masquerade counter $masq_before -> $masq_after)"
}

# check_inbound_blocked: check 2, a connection opened from the internet to a
# private host fails, and natd's drop rule is what stopped it.
check_inbound_blocked() {
    local out before after rc
    CHECK=2
    ip -n "$NS_INET" route replace 10.0.0.0/16 via "$PUB_IP"
    # The listener is really there: reachable from inside the VPC.
    if ! out=$(ip netns exec "$NS_RTR" curl -sS --max-time 5 http://10.0.2.10/ 2>&1) || [[ $out != 10.0.2.1 ]]; then
        fail "check 2 (setup): the listener on 10.0.2.10:80 does not answer from inside the VPC: $out"
    fi
    before=$(nft_counter drop)
    rc=0
    out=$(ip netns exec "$NS_INET" curl -sS --connect-timeout 2 --max-time 3 http://10.0.2.10/ 2>&1) || rc=$?
    ((rc != 0)) ||
        fail "check 2: a connection from the internet to private host 10.0.2.10:80 through the NAT succeeded (answer '$out'); new inbound connections must be dropped"
    after=$(nft_counter drop)
    ((after > before)) ||
        fail "check 2: the inbound connection failed (curl: $out) but natd's drop counter did not move ($before -> $after): something other than natd's drop rule stopped it"
    pass "check 2: internet -> 10.0.2.10:80 through the NAT fails (curl exit $rc) and natd's drop counter went $before -> $after"
}

# check_nat_state: check 3, return routes and IP forwarding.
check_nat_state() {
    local present absent out fwd
    CHECK=3
    present=$(printf '10.0.%s.0/24,' "${HOST_NETS[@]}")
    absent=10.0.1.0/24
    out=$(ip -n "$NS_NAT" -4 -j route show table all |
        "$PY" "$INTEG_DIR/inspect.py" routes "$PRIV_GW" "$PRIV_DEV" "$present" "$absent" 2>&1) ||
        fail "check 3: $out"
    fwd=$(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward)
    [[ $fwd == 1 ]] || fail "check 3: net.ipv4.ip_forward is $fwd in the NAT instance, expected 1"
    pass "check 3: routes ${present%,} via $PRIV_GW dev $PRIV_DEV onlink, none for $absent via a gateway, ip_forward=1"
}

# check_sigterm: check 4, natd is still running; SIGTERM makes it exit 0
# and the NAT keeps working.
check_sigterm() {
    local t0 t1 json
    CHECK=4
    natd_alive || fail "check 4: natd (daemon mode) is no longer running after READY"
    now_ms t0
    kill -TERM "$NATD_PID"
    wait_exit "$NATD_PID" 10 || fail "check 4: natd did not exit within 10s of SIGTERM"
    now_ms t1
    NATD_PID=
    ((EXIT_RC == 0)) || fail "check 4: natd exited with status $EXIT_RC on SIGTERM, expected 0"
    timing "SIGTERM -> natd exited" $((t1 - t0))
    json=$(nft_natd_json) || fail "check 4: table ip natd is gone after natd exited: $json"
    check_egress " (after natd exited)"
    pass "check 4: natd ran until SIGTERM, exited 0 and left the NAT working"
}

# run_daemon_scenario STYLE [Private=SELECTOR]: the daemon-mode variants.
# STYLE: card | legacy | none (no altname on the private ENI: the selector
# must find it some other way, e.g. by MAC).
run_daemon_scenario() {
    local style=$1 private=${2:-}
    vpc_create "${style/none/card}"
    write_config etc/natd/natd.conf <<EOF
# natd integration test ($TEST_NAME)
[Interfaces]
${private:+Private=$private}
WaitTimeoutSec=60s

[Routes]
Subnets=$SUBNETS
EOF
    natd_start
    natd_settle "the private ENI"
    eni_plug
    if [[ $style != none ]]; then
        natd_alive || fail "natd exited before the private ENI had its altname"
        eni_name "$style"
    fi
    natd_wait_ready
    if [[ $style != none ]]; then
        ((READY_MS >= ENI_ALTNAME_MS)) ||
            fail "natd sent READY=1 $((ENI_ALTNAME_MS - READY_MS)) ms before the private ENI had its altname"
        timing "altname added -> READY=1" $((READY_MS - ENI_ALTNAME_MS))
    else
        ((READY_MS >= ENI_ADDR_MS)) ||
            fail "natd sent READY=1 $((ENI_ADDR_MS - READY_MS)) ms before the private ENI had its address"
        timing "private address added -> READY=1" $((READY_MS - ENI_ADDR_MS))
    fi
    timing "natd started -> READY=1 (includes the simulated ENI attach)" $((READY_MS - NATD_START_MS))
    check_egress
    check_inbound_blocked
    check_nat_state
    check_sigterm
}
