# shellcheck shell=bash
# natd's self-healing tests (drift.sh, fight.sh, rename.sh, reattach.sh,
# foreign-reject.sh, sigkill.sh, teardown.sh): the pieces they share on top
# of networkd-lib.sh and lib.sh.
#
#   - natd in the simulated VPC without systemd-networkd, on a private D-Bus
#     system bus (so that natd-ctl status --json reaches it): natd installs
#     the return routes itself (proto 213);
#   - drift-monitor.py in the NAT instance namespace, read through a fifo:
#     every nftables transaction (with the process behind it), IPv4 route,
#     ip_forward and link change, stamped in microseconds when received.
#     mon_expect waits (bounded) for the next event matching a pattern;
#     intervals are computed from two events' stamps, never from when the
#     script got to run;
#   - natd-ctl status --json and a few statistics.

# shellcheck source=tests/integration/networkd-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/networkd-lib.sh"

SJ="$PY $INTEG_DIR/status-json.py"
# shellcheck disable=SC2034 # for the tests
SYSCTL_REL=etc/sysctl.d/90-natd.conf
MON_PID=
MON_FD=
MON_LINE=
MON_US=
MON_LOG=

# drift_init TEST_NAME NATD [NATD_CTL]: nd_init (preconditions, scratch,
# no bus yet) and natd-ctl (default: next to natd).
drift_init() {
    nd_init "$1" "$2"
    NATD_CTL=${3:-$(dirname "$NATD")/natd-ctl}
    [[ -x $NATD_CTL ]] || fail "natd-ctl binary '$NATD_CTL' does not exist or is not executable"
    NATD_CTL=$(realpath "$NATD_CTL")
    MON_LOG=$T/events.log
    trap drift_on_exit EXIT
}

drift_on_exit() {
    local rc=$?
    set +e
    mon_stop
    if ((rc != 0 && rc != 77)) && [[ -n $MON_LOG && -s $MON_LOG ]]; then
        {
            echo "--- netlink events seen by drift-monitor.py (last 40) ---"
            tail -n 40 "$MON_LOG"
        } >&2
    fi
    (exit "$rc")
    nd_on_exit
}

# drift_vpc: the simulated VPC (no private ENI yet), natd's configuration,
# an empty networkd state directory (no networkd) and a private system bus.
drift_vpc() {
    vpc_create card
    write_test_config
    boot_prepare
    dbus_start
}

# drift_ready: start natd, attach the private ENI (ens6, altname
# device-number-1.0 a moment later) and wait for READY=1.
drift_ready() {
    natd_start
    wait_until 10 natd_on_bus_api || fail "natd did not own io.natd1 on the bus within 10s: $WAIT_OUT"
    eni_plug
    eni_name card
    natd_wait_ready
    timing "altname added -> READY=1" $((READY_MS - ENI_ALTNAME_MS))
}

# dropin_dir IFNAME: natd's drop-in directory for IFNAME under --root, where
# networkd does not manage the link (amazon-ec2-net-utils' naming).
dropin_dir() {
    echo "etc/systemd/network/70-$1.network.d"
}

# --- the event monitor ---------------------------------------------------------

# mon_start: drift-monitor.py in the NAT instance; returns once subscribed.
mon_start() {
    [[ -z $MON_PID ]] || return 0
    rm -f "$T/mon.fifo"
    mkfifo "$T/mon.fifo"
    exec {MON_FD}<>"$T/mon.fifo"
    # Real-time priority: it wakes as soon as an event is queued, so that its
    # stamps are when the events happened, not when the CPU was free.
    ip netns exec "$NS_NAT" chrt -f 10 "$PY" "$INTEG_DIR/drift-monitor.py" --lifetime "$HELPER_LIFETIME" \
        >&"$MON_FD" 2>>"$T/monitor.err" {MON_FD}>&- &
    MON_PID=$!
    local line
    read -r -t 10 -u "$MON_FD" line || fail "drift-monitor.py did not start: $(cat "$T/monitor.err")"
    [[ $line == LISTENING ]] || fail "drift-monitor.py said '$line' instead of LISTENING"
}

mon_stop() {
    if [[ -n $MON_PID ]]; then
        kill -KILL "$MON_PID" 2>/dev/null
        wait "$MON_PID" 2>/dev/null
        MON_PID=
    fi
    if [[ -n $MON_FD ]]; then
        exec {MON_FD}>&-
        MON_FD=
    fi
    return 0
}

# mon_expect SECONDS ERE: read events until one matches ERE (bash =~), at most SECONDS. Sets MON_LINE and MON_US (its stamp); every
# line read goes to $MON_LOG. Returns 1 on timeout.
mon_expect() {
    local secs=$1 re=$2 deadline now left line frac=0
    now_ms deadline
    if [[ $secs == *.* ]]; then
        frac=${secs#*.}000
        frac=${frac:0:3}
    fi
    deadline=$((deadline + 10#${secs%%.*} * 1000 + 10#$frac))
    while true; do
        now_ms now
        left=$((deadline - now))
        ((left > 0)) || return 1
        printf -v left '%d.%03d' $((left / 1000)) $((left % 1000))
        IFS= read -r -t "$left" -u "$MON_FD" line || return 1
        echo "$line" >>"$MON_LOG"
        [[ $line == *OVERRUN* ]] && fail "drift-monitor.py lost netlink events: $line"
        if [[ $line =~ $re ]]; then
            MON_LINE=$line
            MON_US=${line%% *}
            return 0
        fi
    done
}

# mon_must SECONDS ERE WHAT: mon_expect or fail.
mon_must() {
    mon_expect "$1" "$2" || fail "$3: no event matching /$2/ within $1s (events: $MON_LOG)"
}

# mon_all SECONDS ERE...: read events until each ERE matched one (in any
# order), at most SECONDS in all. MON_US is then the stamp of the last of
# them, MON_STAMPS[i] the stamp of the event that matched the i-th ERE,
# MON_MISSING lists the patterns not seen (on timeout: return 1).
# shellcheck disable=SC2034 # for the caller
MON_STAMPS=() MON_MISSING=
mon_all() {
    local secs=$1 deadline now left re i last=0
    shift
    local want=("$@")
    MON_STAMPS=()
    now_ms deadline
    deadline=$((deadline + secs * 1000))
    while ((${#want[@]})); do
        now_ms now
        left=$((deadline - now))
        if ((left <= 0)) || ! mon_expect "$((left / 1000)).$(printf '%03d' $((left % 1000)))" '.'; then
            MON_MISSING=$(printf '/%s/ ' "${want[@]}")
            return 1
        fi
        for i in "${!want[@]}"; do
            re=${want[$i]}
            if [[ $MON_LINE =~ $re ]]; then
                unset 'want[i]'
                # shellcheck disable=SC2034 # for the caller
                MON_STAMPS[i]=$MON_US
                last=$MON_US
                break
            fi
        done
    done
    MON_US=$last
    # shellcheck disable=SC2034 # for the caller
    MON_MISSING=
}

# mon_quiet SECONDS ERE WHAT: fail if an event matching ERE arrives within
# SECONDS (an observation window: the claim is that nothing happens).
mon_quiet() {
    if mon_expect "$1" "$2"; then
        fail "$3: $MON_LINE"
    fi
    return 0
}

# mon_drain: read (and log) whatever events are already queued.
mon_drain() {
    local line
    while IFS= read -r -t 0.001 -u "$MON_FD" line; do
        echo "$line" >>"$MON_LOG"
    done
    return 0
}

# --- natd's state ----------------------------------------------------------------

# ctl_status [RC]: natd-ctl status --json into CTL_OUT, validated against
# doc/natd-ctl-status-json.txt; fails unless it exits RC (when given).
ctl_status() {
    natd_ctl --root "$ROOT" status --json
    if [[ -n ${1:-} ]] && ((CTL_RC != $1)); then
        fail "natd-ctl status --json exited $CTL_RC, expected $1:"$'\n'"$CTL_OUT"$'\n'"$CTL_ERR"
    fi
    local out
    out=$($SJ validate <<<"$CTL_OUT" 2>&1) ||
        fail "natd-ctl status --json does not follow doc/natd-ctl-status-json.txt: $out"$'\n'"$CTL_OUT"
}

# sj_get PATH: a value of the last ctl_status.
sj_get() {
    $SJ get "$1" <<<"$CTL_OUT"
}

# state_is STATE [WARNING-SUBSTRING]: natd-ctl status says STATE (and has a
# warning containing WARNING-SUBSTRING, or none when it is "-").
state_is() {
    natd_ctl status --json
    [[ $(sj_get state) == "$1" ]] || { echo "state $(sj_get state): $(sj_get status)"; return 1; }
    case ${2:-} in
        '') ;;
        -) [[ $(sj_get warnings) == '[]' ]] || { echo "warnings: $(sj_get warnings)"; return 1; } ;;
        *) [[ $(sj_get warnings) == *"$2"* ]] || { echo "warnings: $(sj_get warnings)"; return 1; } ;;
    esac
}
# waiting_private: natd-ctl status says waiting for the private interface.
waiting_private() {
    natd_ctl status --json
    ((CTL_RC == 1)) || { echo "natd-ctl status exited $CTL_RC"; return 1; }
    $SJ expect state='"waiting"' private.name=null <<<"$CTL_OUT" >/dev/null || { sj_get state; return 1; }
    [[ $(sj_get waiting_for) == *device-number-1* ]] || { sj_get waiting_for; return 1; }
}
# notify_since MS ERE: stamp of the first sd_notify message at or after MS
# matching ERE (natd's STATUS= changes, logged by notify-wait's drainer).
notify_since() {
    awk -v since="$1" -v re="$2" '$1 >= since && $0 ~ re { print $1; exit }' "$T/notify.log"
}

# natd_cpu_ticks: utime + stime of natd in clock ticks.
natd_cpu_ticks() {
    local stat
    stat=$(<"/proc/$NATD_PID/stat")
    stat=${stat##*) }
    # shellcheck disable=SC2086 # split the fields
    set -- $stat
    echo $((${12} + ${13}))
}

# ifindex_of NAME: the ifindex of a link of the NAT instance.
ifindex_of() {
    ip -n "$NS_NAT" -j link show dev "$1" | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])'
}

# table_on NAME: natd's table is in the kernel and names interface NAME and
# the public ENI, and no other interface.
table_on() {
    local txt names
    txt=$(ip netns exec "$NS_NAT" nft list table ip natd 2>&1) || { echo "$txt"; return 1; }
    names=$(grep -oE '[io]ifname "?[^" ]+"?' <<<"$txt" | awk '{gsub(/"/, "", $2); print $2}' | sort -u | tr '\n' ' ')
    [[ $names == "$(printf '%s\n' "$1" "$PUB_DEV" | sort -u | tr '\n' ' ')" ]] ||
        { echo "table ip natd names interfaces: $names(expected $1 and $PUB_DEV)"; return 1; }
    echo "table ip natd on $1/$PUB_DEV"
}

# natd_routes_on DEV: routes_as natd's protocol on DEV.
natd_routes_on() {
    routes_as "$NATD_PROTO" "$1"
}

# one_table: exactly one table ip natd.
one_table() {
    local n
    n=$(ip netns exec "$NS_NAT" nft list tables | grep -cx 'table ip natd' || true)
    ((n == 1)) || { echo "$n tables ip natd: $(ip netns exec "$NS_NAT" nft list tables)"; return 1; }
}

# stats_ms US...: "n=N p50=X p99=Y max=Z" in ms (nearest rank) of intervals
# given in microseconds.
stats_ms() {
    printf '%s\n' "$@" | $PY -c '
import math, sys
v = sorted(int(x) for x in sys.stdin.read().split())
rank = lambda q: v[max(0, math.ceil(q * len(v)) - 1)] / 1000
print(f"n={len(v)} p50={rank(0.5):.1f} p99={rank(0.99):.1f} max={v[-1] / 1000:.1f}")'
}

# rank_us Q US...: the nearest-rank Q-quantile (0.5, 0.99, 1) of intervals
# in microseconds, in microseconds.
rank_us() {
    local q=$1
    shift
    printf '%s\n' "$@" | $PY -c '
import math, sys
q, v = float(sys.argv[1]), sorted(int(x) for x in sys.stdin.read().split())
print(v[max(0, math.ceil(q * len(v)) - 1)])' "$q"
}

# us_ms US: microseconds as milliseconds with three decimals.
us_ms() {
    printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}
