# shellcheck shell=bash
# natd next to the real systemd-networkd: the pieces shared by the
# persistence tests (networkd.sh, reboot.sh, no-networkd.sh, restarts.sh).
# Sources lib.sh (the simulated VPC, natd's start and readiness, checks 1-4).
#
# In the NAT instance namespace, one "boot" of the instance runs:
#   - a private D-Bus system bus: dbus-daemon listening on
#     $BOOT_DIR/dbus/system_bus_socket, with the stock policy of
#     org.freedesktop.network1 (systemd-network owns the name, anyone may
#     call it; networkd checks CAP_NET_ADMIN itself);
#   - /lib/systemd/systemd-networkd in a mount namespace of its own where
#       /etc/systemd/network  is $ROOT/etc/systemd/network (natd's drop-ins),
#       /run/systemd/netif    is $ROOT/run/systemd/netif (natd reads
#                             links/<ifindex> there, under --root),
#       /run/systemd/network  is $ROOT/run/systemd/network (the 70-<if>.network
#                             files amazon-ec2-net-utils would write; natd
#                             reads their [Match] there, under --root),
#       /run/dbus             is $BOOT_DIR/dbus,
#     on a tmpfs /run (nothing of the host's /run is seen or touched) and a
#     read-only /sys (a container: networkd does not wait for udev);
#     networkd drops to the user systemd-network and reaches the bus at its
#     default /run/dbus/system_bus_socket;
#   - natd (no mount namespace: it reads and writes under --root), with
#     DBUS_SYSTEM_BUS_ADDRESS pointing at that bus.
# The mounts live and die with networkd's mount namespace: nothing is mounted
# on the host. Everything runs inside the NAT instance namespace, so lib.sh's
# cleanup (which kills every process in the run's namespaces) ends it all.

# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NETWORKD_BIN=${NETWORKD_BIN:-/lib/systemd/systemd-networkd}
NETWORKD_LOG_LEVEL=${NETWORKD_LOG_LEVEL:-debug}
NETWORKD_UP_TIMEOUT=${NETWORKD_UP_TIMEOUT:-20}  # networkd started -> owns its bus name
ROUTE_TIMEOUT=${ROUTE_TIMEOUT:-30}              # for routes to appear

NETWORKD_DBUS_POLICY=/usr/share/dbus-1/system.d/org.freedesktop.network1.conf
# natd's own bus policy, as the package installs it.
NATD_DBUS_POLICY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/systemd/io.natd1.conf
RETURN_NETS=10.0.2.0/24,10.0.3.0/24  # the return routes natd plans
# natd's own route protocol (ip -j route shows unnamed protocols as numbers).
# shellcheck disable=SC2034 # for the tests
NATD_PROTO=213

BOOT=0
BOOT_DIR=
DBUS_PID=
NETWORKD_PID=

# nd_init TEST_NAME NATD_BINARY: lib_init, the tools these tests need, and
# a cleanup that also shows networkd's side when a test fails.
nd_init() {
    lib_init "$@"
    local tool
    for tool in dbus-daemon busctl networkctl unshare nsenter; do
        command -v "$tool" >/dev/null || fail "'$tool' is missing: run tests/install-deps.sh"
    done
    [[ -x $NETWORKD_BIN ]] || fail "$NETWORKD_BIN is missing: run tests/install-deps.sh (package systemd)"
    [[ -f $NETWORKD_DBUS_POLICY ]] || fail "$NETWORKD_DBUS_POLICY is missing (package systemd)"
    [[ -d /etc/systemd/network ]] || fail "/etc/systemd/network does not exist (networkd's mount point for \$ROOT/etc/systemd/network)"
    id systemd-network >/dev/null 2>&1 || fail "no user systemd-network (package systemd)"
    # natd must never reach the host's system bus (and a networkd there):
    # until a test starts its own bus, the address leads nowhere.
    export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-bus/system_bus_socket"
    trap nd_on_exit EXIT
}

nd_on_exit() {
    local rc=$?
    set +e
    if ((rc != 0 && rc != 77)); then
        nd_dump_diagnostics >&2
    fi
    local pid  # networkd and dbus-daemon, reaped quietly (no "Killed" from bash)
    for pid in "$NETWORKD_PID" "$DBUS_PID"; do
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid"
            wait "$pid" 2>/dev/null
        fi
    done
    (exit "$rc")
    on_exit  # lib.sh: its diagnostics, then it kills everything and deletes the namespaces
}

nd_dump_diagnostics() {
    [[ -n $T && -d $T ]] || return 0
    echo "----- networkd side -----"
    if [[ -s $T/networkd.log ]]; then
        echo "--- systemd-networkd output (last 80 lines of $T/networkd.log) ---"
        tail -n 80 "$T/networkd.log"
    fi
    if networkd_alive; then
        echo "--- networkctl list ---"
        networkctl_in_ns --no-pager list
    fi
    if [[ -d $ROOT ]]; then
        echo "--- files under --root (but the configuration) ---"
        local f
        while IFS= read -r f; do
            echo "## ${f#"$ROOT"}"
            case $f in
                */run/*) ;;
                *) sed 's/^/   /' "$f" ;;
            esac
        done < <(find "$ROOT" -type f ! -path "$ROOT/etc/natd/*" | sort)
    fi
}

# --- one boot of the NAT instance -----------------------------------------

# boot_prepare: a fresh /run for the instance: a new networkd state directory
# (owned by systemd-network, as networkd runs as that user), a new directory
# for the 70-<if>.network files and one for the bus. $ROOT/etc and
# $ROOT/var/lib persist across boots.
boot_prepare() {
    BOOT=$((BOOT + 1))
    BOOT_DIR=$T/boot$BOOT
    mkdir -p "$BOOT_DIR/dbus" "$ROOT/etc/systemd/network"
    rm -rf "$ROOT/run"
    mkdir -p "$ROOT/run/systemd/netif" "$ROOT/run/systemd/network"
    chown systemd-network:systemd-network "$ROOT/run/systemd/netif"
    info "boot $BOOT: fresh /run ($BOOT_DIR), persistent $ROOT/etc and $ROOT/var/lib"
}

# boot_release_links IFNAME...: remove the addresses and routes lib.sh's
# vpc_create gave these links, so that networkd configures them from its
# .network files, as at boot. (networkd 252 also spins re-requesting an
# address that existed before it started: 65534 identical requests, seconds
# of delay.)
boot_release_links() {
    local ifname
    for ifname in "$@"; do
        ip -n "$NS_NAT" -4 route flush dev "$ifname"
        ip -n "$NS_NAT" -4 addr flush dev "$ifname"
    done
}

# write_network_file IFNAME MATCH [NETWORK-LINES...]: a 70-IFNAME.network
# the way amazon-ec2-net-utils writes one per ENI (static addresses here
# instead of DHCP), e.g. MATCH "Name=ens6" or "MACAddress=...".
write_network_file() {
    local ifname=$1 match=$2
    shift 2
    {
        echo "# per-ENI configuration (test: $TEST_NAME, boot $BOOT)"
        echo "[Match]"
        echo "$match"
        echo
        echo "[Network]"
        # No IPv6 link-local address: networkd would stay "configuring" for
        # its DAD (seconds here), and natd does not reload networkd then.
        echo "LinkLocalAddressing=no"
        printf '%s\n' "$@"
    } >"$ROOT/run/systemd/network/70-$ifname.network"
}

# dbus_start: the private system bus; returns once it listens.
dbus_start() {
    local sock=$BOOT_DIR/dbus/system_bus_socket
    cat >"$BOOT_DIR/dbus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- A private system bus for natd's test $TEST_NAME (boot $BOOT). The
     default policy is the one of /usr/share/dbus-1/system.conf. -->
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=$sock</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <!-- The test's bus monitor (bus_monitor_start), not part of system.conf. -->
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>$NETWORKD_DBUS_POLICY</include>
  <include>$NATD_DBUS_POLICY</include>
</busconfig>
EOF
    # In the foreground (our child, reaped by us), it prints its address on
    # fd 3 once it listens.
    local fifo=$BOOT_DIR/dbus-address.fifo fd address
    mkfifo "$fifo"
    exec {fd}<>"$fifo"
    ip netns exec "$NS_NAT" dbus-daemon --config-file="$BOOT_DIR/dbus.conf" --nofork \
        --print-address=3 3>&"$fd" {fd}>&- </dev/null >>"$T/dbus.log" 2>&1 &
    DBUS_PID=$!
    if ! read -r -t 10 -u "$fd" address; then
        exec {fd}>&-
        fail "dbus-daemon did not report its address within 10s: $(cat "$T/dbus.log")"
    fi
    exec {fd}>&-
    [[ $address == "unix:path=$sock,"* ]] || fail "dbus-daemon listens on '$address', expected unix:path=$sock"
    export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$sock"
    info "private system bus: $DBUS_SYSTEM_BUS_ADDRESS (dbus-daemon pid $DBUS_PID)"
    bus_monitor_start
}

# bus_monitor_start: `busctl monitor` on this boot's bus, every message as a
# JSON line in $BOOT_DIR/bus-monitor.jsonl (check_networkd_calls reads what
# natd asked networkd there); returns once the monitor sees the bus. It ends
# with the bus.
bus_monitor_start() {
    ip netns exec "$NS_NAT" stdbuf -oL busctl monitor --json=short \
        </dev/null >"$BOOT_DIR/bus-monitor.jsonl" 2>>"$T/bus-monitor.err" &
    bus_monitor_sync || fail "busctl monitor did not see the bus within 10s: $WAIT_OUT $(cat "$T/bus-monitor.err")"
}

# bus_monitor_sync: a probe call made now shows up in this boot's monitor
# log: the monitor has logged what the bus routed before.
BUS_PROBES=0
bus_monitor_sync() {
    BUS_PROBES=$((BUS_PROBES + 1))
    # shellcheck disable=SC2016 # $1.. expand in the inner shell
    wait_until 10 sh -c '
        busctl --timeout=2 call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
            NameHasOwner s "$1" >/dev/null
        grep -qF "\"$1\"" "$2"' bus-probe "io.natd1.test.probe$BUS_PROBES" "$BOOT_DIR/bus-monitor.jsonl"
}

# networkd_start: systemd-networkd in the NAT instance; returns once it owns
# org.freedesktop.network1 (as with systemd's bus activation, natd's calls
# then reach it). Its output goes to $T/networkd.log.
networkd_start() {
    local t0 t1
    echo "===== boot $BOOT: systemd-networkd starting at $(date +%T.%N) =====" >>"$T/networkd.log"
    now_ms t0
    # shellcheck disable=SC2016 # $1.. expand in the inner shell
    ip netns exec "$NS_NAT" env -u DBUS_SYSTEM_BUS_ADDRESS -u NOTIFY_SOCKET \
        SYSTEMD_LOG_LEVEL="$NETWORKD_LOG_LEVEL" SYSTEMD_LOG_TARGET=console \
        SYSTEMD_LOG_TIME=1 SYSTEMD_LOG_COLOR=0 \
        unshare --mount --propagation private sh -euc '
            mount -t tmpfs -o mode=0755 tmpfs /run
            mkdir -p /run/systemd/netif /run/systemd/network /run/dbus
            mount --bind "$1" /etc/systemd/network
            mount --bind "$2" /run/systemd/netif
            mount --bind "$3" /run/systemd/network
            mount --bind "$4" /run/dbus
            mount -o remount,bind,ro /sys
            exec "$5"' networkd "$ROOT/etc/systemd/network" "$ROOT/run/systemd/netif" \
        "$ROOT/run/systemd/network" "$BOOT_DIR/dbus" "$NETWORKD_BIN" \
        </dev/null >>"$T/networkd.log" 2>&1 &
    NETWORKD_PID=$!
    wait_until "$NETWORKD_UP_TIMEOUT" networkd_on_bus ||
        fail "systemd-networkd did not own org.freedesktop.network1 within ${NETWORKD_UP_TIMEOUT}s: $WAIT_OUT"
    now_ms t1
    timing "boot $BOOT: systemd-networkd started -> on the bus" $((t1 - t0))
    info "systemd-networkd (pid $NETWORKD_PID) manages the NAT instance's links"
}

networkd_alive() {
    [[ -n $NETWORKD_PID ]] && kill -0 "$NETWORKD_PID" 2>/dev/null
}

# networkd_on_bus: networkd runs and owns its name (for wait_until).
networkd_on_bus() {
    if ! networkd_alive; then
        echo "systemd-networkd exited; its output: $(tail -n 20 "$T/networkd.log")"
        return 2
    fi
    busctl --timeout=2 call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetNameOwner s org.freedesktop.network1
}

# networkctl_in_ns ARGS...: networkctl inside networkd's mount and network
# namespaces (it reads networkd's state from /run/systemd/netif there).
networkctl_in_ns() {
    timeout 10 nsenter -t "$NETWORKD_PID" -m -n networkctl "$@"
}

# boot_stop_all: the "power cut" of a reboot: SIGKILL natd, networkd and the
# bus (all children of this script), and reap them.
boot_stop_all() {
    local pid
    for pid in "$NATD_PID" "$NETWORKD_PID" "$DBUS_PID"; do
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid"
            wait "$pid" 2>/dev/null || true
        fi
    done
    NATD_PID=''
    NETWORKD_PID=''
    DBUS_PID=''
    natd_forget_notify
    export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-bus/system_bus_socket"
}

# ns_delete NS: kill what still runs in namespace NS, delete it and forget
# it (lib.sh's cleanup deletes the namespaces listed in NAMESPACES).
ns_delete() {
    local ns=$1 pid n kept=()
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$ns"
    for n in "${NAMESPACES[@]}"; do
        [[ $n == "$ns" ]] || kept+=("$n")
    done
    NAMESPACES=("${kept[@]}")
}

# link_gone NS IFNAME: the link does not exist (any more) in namespace NS.
link_gone() {
    ! ip -n "$1" link show dev "$2" >/dev/null 2>&1
}

# instance_reboot PUB-NAME PRIV-NAME: the kernel side of a reboot (after
# boot_stop_all): the NAT instance's namespace goes, and with it the VPC
# ends of its ENIs; it comes back (ip_forward 0, as a fresh kernel) with the
# same two ENIs, same MACs, named PUB-NAME and PRIV-NAME this time, down,
# without altnames, addresses or routes; their VPC ends (igw0, r-nat) are
# configured as before. Sets OLD_PUB_DEV and OLD_PRIV_DEV.
instance_reboot() {
    local pub_mac
    pub_mac=$(ip -n "$NS_NAT" -j link show dev "$PUB_DEV" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
    ns_delete "$NS_NAT"
    # The kernel tears the other ends down asynchronously.
    wait_until 10 link_gone "$NS_INET" igw0 || fail "reboot: igw0 outlived the NAT instance's namespace"
    wait_until 10 link_gone "$NS_RTR" r-nat || fail "reboot: r-nat outlived the NAT instance's namespace"
    info "rebooting: NAT instance namespace deleted"
    # shellcheck disable=SC2034 # for the caller
    OLD_PUB_DEV=$PUB_DEV OLD_PRIV_DEV=$PRIV_DEV
    PUB_DEV=$1 PRIV_DEV=$2
    new_ns "$NS_NAT"
    ip netns exec "$NS_NAT" sysctl -q -w net.ipv4.ip_forward=0
    ip link add name "$PUB_DEV" address "$pub_mac" netns "$NS_NAT" type veth peer name igw0 netns "$NS_INET"
    ip -n "$NS_INET" addr add "$INET_IP/24" dev igw0
    ip -n "$NS_INET" link set igw0 up
    ip link add name "$PRIV_DEV" address "$PRIV_MAC" netns "$NS_NAT" type veth peer name r-nat netns "$NS_RTR"
    ip -n "$NS_RTR" addr add "$PRIV_GW/24" dev r-nat
    ip -n "$NS_RTR" link set r-nat up
    ip -n "$NS_RTR" route add default via "$PRIV_IP"
    info "the NAT instance is back: ENIs $PUB_DEV ($pub_mac) and $PRIV_DEV ($PRIV_MAC), no altnames yet"
}

# natd_forget_notify: after natd stopped, let natd_start set up a new
# notify-wait.py (lib.sh's natd_start creates $T/notify.fifo each time).
natd_forget_notify() {
    if [[ -n $DRAINER_PID ]]; then
        kill -KILL "$DRAINER_PID" 2>/dev/null || true
        DRAINER_PID=
    fi
    if [[ -n $NOTIFY_PID ]]; then
        kill -KILL "$NOTIFY_PID" 2>/dev/null || true
        wait "$NOTIFY_PID" 2>/dev/null || true
        NOTIFY_PID=
    fi
    if [[ -n $NOTIFY_FD ]]; then
        exec {NOTIFY_FD}>&-
        NOTIFY_FD=
    fi
    rm -f "$T/notify.fifo"
}

# natd_stop: SIGTERM natd and expect exit status 0 within 10 s.
natd_stop() {
    natd_alive || fail "natd is no longer running (expected it to run until SIGTERM)"
    kill -TERM "$NATD_PID"
    wait_exit "$NATD_PID" 10 || fail "natd did not exit within 10s of SIGTERM"
    NATD_PID=
    ((EXIT_RC == 0)) || fail "natd exited with status $EXIT_RC on SIGTERM, expected 0"
    natd_forget_notify
}

# --- waiting and checks ------------------------------------------------------

# wait_until SECONDS CMD...: run CMD every 50 ms until it succeeds (return 0)
# or exits with 2 (give up at once), at most SECONDS (then return 1). CMD's
# last output is left in WAIT_OUT. A bounded wait on a condition, not a pause.
wait_until() {
    local secs=$1 deadline now rc
    shift
    now_ms deadline
    deadline=$((deadline + secs * 1000))
    while true; do
        rc=0
        WAIT_OUT=$("$@" 2>&1) || rc=$?
        ((rc == 0)) && return 0
        ((rc == 2)) && return 1
        now_ms now
        ((now < deadline)) || return 1
        sleep 0.05
    done
}

# monitor_start FILE OBJECTS...: `ip -ts monitor OBJECTS` in the NAT
# instance, line-buffered into FILE, in the background (MONITOR_PID); returns
# once it is subscribed: a probe route added and deleted shows up in FILE.
MONITOR_PID=
MONITOR_PROBE=198.51.100.255/32  # TEST-NET-2, blackholed for an instant
monitor_start() {
    local file=$1
    shift
    stdbuf -oL ip -n "$NS_NAT" -ts monitor "$@" >"$file" 2>&1 &
    MONITOR_PID=$!
    # (Deleted and added again each round: an event until one is seen.)
    # shellcheck disable=SC2016 # $1.. expand in the inner shell
    wait_until 10 sh -c '
        ip -n "$1" route del blackhole "$2" 2>/dev/null
        ip -n "$1" route add blackhole "$2"
        grep -q "blackhole ${2%/32}" "$3"' monitor-probe "$NS_NAT" "$MONITOR_PROBE" "$file" ||
        fail "ip monitor $* did not report the probe route within 10s: $(cat "$file")"
    ip -n "$NS_NAT" route del blackhole "$MONITOR_PROBE" 2>/dev/null || true
}

# monitor_stop FILE: stop the monitor; FILE keeps what it saw (the probe's
# lines removed).
monitor_stop() {
    local file=$1
    kill "$MONITOR_PID" 2>/dev/null || true
    wait "$MONITOR_PID" 2>/dev/null || true
    MONITOR_PID=
    sed -i "/blackhole ${MONITOR_PROBE%/32}/d" "$file"
}

# natd_wait_settled SINCE_MS WHAT: after a disturbance at SINCE_MS (realtime
# ms) that takes natd out of Ready (networkd 252 removes the private ENI's
# address and routes when it reconfigures the link), wait until natd reports
# STATUS=Ready again (READY=1 is sent once, at start-up; notify-wait.py's
# drainer logs natd's notifications to $T/notify.log). If natd never left
# Ready, accept that after SETTLE_TIMEOUT seconds, provided its last status
# is Ready.
SETTLE_TIMEOUT=${SETTLE_TIMEOUT:-10}
natd_wait_settled() {
    local since=$1 what=$2 last
    if wait_until "$SETTLE_TIMEOUT" ready_since "$since"; then
        info "natd reported Ready again $((WAIT_OUT - since)) ms after $what"
        # shellcheck disable=SC2034 # for the caller
        SETTLED_MS=$WAIT_OUT
        return 0
    fi
    last=$(grep ' STATUS=' "$T/notify.log" | tail -n 1)
    [[ ${last#* } == STATUS=Ready* ]] ||
        fail "natd is not Ready ${SETTLE_TIMEOUT}s after $what; its last status: ${last#* }"
    info "natd stayed Ready through $what (no new READY=1 within ${SETTLE_TIMEOUT}s)"
    now_ms SETTLED_MS
}

# ready_since MS: natd's latest status, reported at or after MS, is Ready
# (prints when).
ready_since() {
    natd_alive || { echo "natd exited"; return 2; }
    awk -v since="$1" '$1 >= since && $2 ~ /^STATUS=/ { t = ($2 ~ /^STATUS=Ready/) ? $1 : 0 }
        END { if (t) print t; else exit 1 }' "$T/notify.log"
}

# routes_as PROTO [DEV]: each return route (10.0.2.0/24, 10.0.3.0/24) is in
# the NAT instance's routing tables exactly once, as "via $PRIV_GW dev DEV
# onlink proto PROTO" (PROTO: static = systemd-networkd, 213 = natd).
# Prints a summary; the problems on failure.
routes_as() {
    local proto=$1 dev=${2:-$PRIV_DEV}
    ip -n "$NS_NAT" -4 -j route show table all | "$PY" -c '
import json, sys
gateway, dev, proto, dests = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
table = json.load(sys.stdin)
problems, seen = [], []
for dst in dests:
    mine = [r for r in table if r.get("dst") == dst]
    good = [r for r in mine if r.get("gateway") == gateway and r.get("dev") == dev
            and "onlink" in r.get("flags", []) and str(r.get("protocol")) == proto]
    if len(mine) == 1 and good:
        seen.append(f"{dst} via {gateway} dev {dev} onlink proto {proto}")
    else:
        problems.append(f"{dst}: want exactly one route via {gateway} dev {dev} onlink proto {proto}, "
                        f"have {len(mine)}: {json.dumps(mine)}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("; ".join(seen))
' "$PRIV_GW" "$dev" "$proto" "$RETURN_NETS"
}

# wait_routes_as PROTO WHAT: wait (ROUTE_TIMEOUT) for routes_as PROTO.
wait_routes_as() {
    wait_until "$ROUTE_TIMEOUT" routes_as "$1" ||
        fail "$2: the return routes are not as expected after ${ROUTE_TIMEOUT}s: $WAIT_OUT"
    # shellcheck disable=SC2034 # for the caller
    ROUTES_SEEN=$WAIT_OUT
}

# route_gap_ms EVENTS_LOG: from an `ip -ts monitor route` log, the ms from
# the first deletion of a return route to the last re-addition of one;
# nothing when none was deleted.
route_gap_ms() {
    "$PY" -c '
import datetime, re, sys
nets = sys.argv[2].split(",")
first_del = last_add = None
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"\[([^]]+)\] (Deleted )?(\S+)", line)
    if not m or m.group(3) not in nets:
        continue
    t = datetime.datetime.fromisoformat(m.group(1))
    if m.group(2):
        first_del = first_del or t
    elif first_del:
        last_add = t
if first_del and last_add:
    print(round((last_add - first_del).total_seconds() * 1000))
' "$1" "$RETURN_NETS"
}

# check_dropin FILE-UNDER-ROOT: the drop-in holds exactly one [Route] per
# return route (Destination=, Gateway=$PRIV_GW, GatewayOnLink=yes), one
# [DHCPv4] UseGateway=no (no DHCP default route via the private ENI), and
# nothing else but comments.
check_dropin() {
    local rel=$1 out
    [[ -f $ROOT/$rel ]] || fail "natd's drop-in $rel does not exist under --root"
    out=$("$PY" -c '
import sys
path, gateway, dests = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
sections, current = [], None
for n, raw in enumerate(open(path, encoding="utf-8"), 1):
    line = raw.strip()
    if not line or line[0] in "#;":
        continue
    if line.startswith("["):
        current = (line, [])
        sections.append(current)
    elif current is None:
        sys.exit(f"line {n}: {line!r} outside any section")
    else:
        current[1].append(line)
want = sorted([("[Route]", [f"Destination={d}", f"Gateway={gateway}", "GatewayOnLink=yes"]) for d in dests]
              + [("[DHCPv4]", ["UseGateway=no"])])
have = sorted((name, sorted(keys)) for name, keys in sections)
want = [(name, sorted(keys)) for name, keys in want]
if have != want:
    sys.exit(f"sections {have}, expected {want}")
print(f"{len(sections) - 1} [Route] sections and [DHCPv4] UseGateway=no: "
      + ", ".join(k[0] for n, k in have if n == "[Route]"))
' "$ROOT/$rel" "$PRIV_GW" "$RETURN_NETS" 2>&1) || fail "drop-in $rel: $out"$'\n'"$(cat "$ROOT/$rel")"
    pass "drop-in $rel: $out"
}

# check_networkd_calls LOG WHAT RELOADS: what natd asked systemd-networkd
# since LOG (a slice of natd's log) began, as the bus monitors of the boots
# saw it (natd's connections: those that owned io.natd1): exactly RELOADS
# Manager.Reload, and no other method (reading properties aside). networkd
# reconfigures a link on Reload and ReconfigureLink by removing its address
# and routes and adding them back; a natd that answers that with another
# call starts the next round, a loop this catches.
check_networkd_calls() {
    local log=$1 what=$2 want_reloads=$3 out
    bus_monitor_sync || fail "$what: the bus monitor did not catch up within 10s: $WAIT_OUT"
    out=$("$PY" "$INTEG_DIR/networkd-calls.py" "$log" "$want_reloads" "$T"/boot*/bus-monitor.jsonl 2>&1) ||
        fail "$what: what natd asked systemd-networkd on the bus: $out"$'\n'"natd's log:"$'\n'"$(grep -E 'Asking systemd-networkd|Installing the return routes|Wrote|Removed|Verification failed|Ready:' "$log")"
    pass "$what: natd asked systemd-networkd (seen on the bus): $out"
}

# check_sysctl_file: natd's sysctl.d file sets net.ipv4.ip_forward = 1 and,
# each allowed to fail at boot ("-"), conntrack's settings: nothing else.
check_sysctl_file() {
    local f=$ROOT/etc/sysctl.d/90-natd.conf settings want
    [[ -f $f ]] || fail "natd did not write /etc/sysctl.d/90-natd.conf under --root"
    settings=$(grep -v '^[[:space:]]*\([#;].*\)\?$' "$f" | sed 's/ = [0-9]*$//' | paste -sd' ')
    want="net.ipv4.ip_forward -net.netfilter.nf_conntrack_buckets -net.netfilter.nf_conntrack_max -net.netfilter.nf_conntrack_tcp_timeout_established"
    [[ $settings == "$want" ]] ||
        fail "/etc/sysctl.d/90-natd.conf sets '$settings', expected exactly '$want'"
    grep -qx 'net.ipv4.ip_forward = 1' "$f" || fail "/etc/sysctl.d/90-natd.conf does not set net.ipv4.ip_forward = 1"
    grep -qx -- '-net.netfilter.nf_conntrack_tcp_timeout_established = 350' "$f" ||
        fail "/etc/sysctl.d/90-natd.conf does not set the established TCP timeout to 350 s"
    pass "/etc/sysctl.d/90-natd.conf: $(grep -v '^#' "$f" | paste -sd';')"
}

# check_registry PATH...: /var/lib/natd/files lists exactly these paths.
check_registry() {
    local f=$ROOT/var/lib/natd/files have want
    [[ -f $f ]] || fail "natd's record /var/lib/natd/files does not exist under --root"
    have=$(grep '^/' "$f" | sort)
    want=$(printf '%s\n' "$@" | sort)
    [[ $have == "$want" ]] ||
        fail "/var/lib/natd/files lists:"$'\n'"$have"$'\n'"expected:"$'\n'"$want"
    pass "/var/lib/natd/files lists exactly: ${have//$'\n'/ }"
}

# natd_files_under_root: natd's persisted files that exist, one a line
# (etc/modprobe.d: natd writes one only where nf_conntrack is a loadable
# module, never on this machine's kernel).
natd_files_under_root() {
    local d dirs=()
    for d in etc/systemd/network etc/sysctl.d etc/modprobe.d; do
        [[ -d $ROOT/$d ]] && dirs+=("$d")
    done
    ((${#dirs[@]})) || return 0
    (cd "$ROOT" && find "${dirs[@]}" -type f | sort)
}

# --- natd-ctl (status.sh, unit-file.sh) ---------------------------------------

# natd_ctl [--as USER] ARGS...: natd-ctl ($NATD_CTL) in the NAT instance
# namespace (its own look at the kernel is that namespace's), on the bus in
# DBUS_SYSTEM_BUS_ADDRESS; --as runs it as USER (setpriv, no supplementary
# groups). Never fails by itself: sets CTL_RC, CTL_OUT (stdout), CTL_ERR
# (stderr) and CTL_MS (wall time, `ip netns exec` included).
natd_ctl() {
    local as=() t0 t1
    if [[ $1 == --as ]]; then
        as=(setpriv --reuid="$2" --regid="$(id -gn "$2")" --clear-groups --)
        shift 2
    fi
    now_ms t0
    CTL_RC=0
    ip netns exec "$NS_NAT" "${as[@]}" "$NATD_CTL" "$@" >"$T/ctl.out" 2>"$T/ctl.err" || CTL_RC=$?
    now_ms t1
    # shellcheck disable=SC2034 # for the caller
    CTL_MS=$((t1 - t0))
    CTL_OUT=$(<"$T/ctl.out")
    # shellcheck disable=SC2034 # for the caller
    CTL_ERR=$(<"$T/ctl.err")
}

# natd_ctl_expect RC WHAT ARGS...: natd_ctl ARGS and fail unless it exits RC.
natd_ctl_expect() {
    local want=$1 what=$2
    shift 2
    natd_ctl "$@"
    ((CTL_RC == want)) ||
        fail "$what: natd-ctl $* exited $CTL_RC, expected $want; stdout:"$'\n'"$CTL_OUT"$'\n'"stderr:"$'\n'"$CTL_ERR"
}

# natd_on_bus_api: natd owns io.natd1 on the test's bus (for wait_until).
natd_on_bus_api() {
    if ! natd_alive; then
        echo "natd exited"
        return 2
    fi
    busctl --timeout=2 call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetNameOwner s io.natd1
}

# --- shared scenario steps ---------------------------------------------------

# write_test_config: the natd.conf of the networkd-era tests: every VPC
# subnet, and a bounded wait so a broken natd fails the test, not its timeout.
write_test_config() {
    write_config etc/natd/natd.conf <<EOF2
# natd integration test ($TEST_NAME)
[Interfaces]
WaitTimeoutSec=60s

[Routes]
Subnets=$SUBNETS
EOF2
}

# boot_with_networkd LABEL: one boot of the NAT instance with networkd
# managing both ENIs from 70-<if>.network files: bus, networkd, natd started
# before the private ENI, the ENI attached (networkd addresses it) and named;
# returns once natd is READY with networkd's routes (one Reload asked).
boot_with_networkd() {
    local label=$1 out
    boot_prepare
    boot_release_links "$PUB_DEV"
    write_network_file "$PUB_DEV" "Name=$PUB_DEV" "Address=$PUB_IP/24" "Gateway=$INET_IP"
    write_network_file "$PRIV_DEV" "Name=$PRIV_DEV" "Address=$PRIV_IP/24"
    dbus_start
    networkd_start
    natd_start
    natd_settle "the private ENI"
    eni_plug noaddr  # networkd gives the ENI its address from 70-<if>.network
    eni_name card
    natd_wait_ready
    ((READY_MS >= ENI_ALTNAME_MS)) ||
        fail "$label: natd sent READY=1 $((ENI_ALTNAME_MS - READY_MS)) ms before the private ENI had its altname"
    timing "$label: altname added -> READY=1 (networkd installed the routes)" $((READY_MS - ENI_ALTNAME_MS))
    # One Reload for the new drop-in, nothing else; READY=1 means the
    # routes are networkd's: they must be there at once.
    check_networkd_calls "$T/natd.log" "$label" 1
    out=$(routes_as static) ||
        fail "$label: READY=1, but the return routes are not systemd-networkd's (proto static): $out"
    pass "$label: at READY=1 the return routes are networkd's: $out"
}

# check_natd_files DROPIN: under --root natd wrote exactly DROPIN (with the
# expected routes) and its sysctl file, and recorded both.
check_natd_files() {
    local dropin=$1 files
    check_dropin "$dropin"
    check_sysctl_file
    check_registry /etc/sysctl.d/90-natd.conf "/$dropin"
    files=$(natd_files_under_root)
    [[ $files == "$(printf '%s\n' "$dropin" etc/sysctl.d/90-natd.conf | sort)" ]] ||
        fail "natd's files under --root are:"$'\n'"$files"$'\n'"expected only $dropin and etc/sysctl.d/90-natd.conf"
    pass "under --root natd wrote exactly $dropin and etc/sysctl.d/90-natd.conf"
}
