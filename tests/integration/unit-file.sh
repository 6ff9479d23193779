#!/usr/bin/env bash
# systemd/natd.service: the unit is valid, its sandbox is tight, and natd
# works inside that sandbox.
#   1. `systemd-analyze verify` passes, without a single warning;
#   2. `systemd-analyze security --offline=true` rates it <= $MAX_EXPOSURE;
#   3. natd with only the unit's capabilities (CAP_NET_ADMIN: bounding,
#      ambient, inheritable; NoNewPrivileges, SecureBits=noroot-locked) in the
#      simulated VPC, on a private system bus: READY, the NAT works, natd-ctl
#      sees it, /proc/<pid>/status shows nothing but CAP_NET_ADMIN;
#   4. under strace: every syscall natd makes passes the unit's
#      SystemCallFilter=, its sockets (AF_INET for iptables-legacy's
#      getsockopt: the namespace has its filter table) are of
#      RestrictAddressFamilies= and it
#      maps nothing writable and executable (MemoryDenyWriteExecute=);
#   5. the same next to the real systemd-networkd (networkd-lib.sh): natd
#      writes the drop-in and networkd accepts natd's Reload (it checks the
#      caller's CAP_NET_ADMIN);
#   6. natd in the unit's file-system sandbox, rebuilt from the unit's own
#      settings: ProtectSystem=strict with ReadWritePaths= and
#      StateDirectory=, ProtectProc=/ProcSubset= (a fresh /proc),
#      ProtectKernelTunables= (read-only /proc/sys, /sys) and
#      ReadWritePaths=/proc/sys/..., plus the capabilities of 3: the
#      namespace can be set up, natd gets READY from scratch, writes its
#      files, the NAT works.
# There is no systemd as PID 1 here (and no systemd-nspawn), so 3-6 rebuild
# the unit's restrictions with setpriv and unshare; what they leave out is
# said where it is done.
# Usage: unit-file.sh PATH-TO-natd   (root for 3-6; exit 77 = skipped)
#        NATD_UNIT=FILE unit-file.sh ...   tries another version of the unit
set -euo pipefail
# shellcheck source=tests/integration/networkd-lib.sh
source "$(dirname "$0")/networkd-lib.sh"

TEST_NAME=integration.unit-file
# (NATD_UNIT: another unit file, to try a change to the unit.)
UNIT=${NATD_UNIT:-$(cd "$INTEG_DIR/../.." && pwd)/systemd/natd.service}
UNIT_PY="$PY $INTEG_DIR/unit-file.py"
# 2.0: 1.9 before IPAddressAllow=localhost (for [Metrics] Listen= on a
# loopback address; IMDS's link-local addresses cost nothing more) and
# AF_INET6 (IMDSEndpoint=http://[fd00:ec2::254]) still score 2.0.
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
[[ -n ${1:-} && -x $1 ]] || fail "usage: $0 PATH-TO-natd"
command -v systemd-analyze >/dev/null || fail "'systemd-analyze' is missing: run tests/install-deps.sh (package systemd)"

# --- 1, 2: the unit as systemd reads it ----------------------------------------
# `systemd-analyze verify` fails on a unit whose ExecStart= binary does not
# exist (natd is not installed in /usr/sbin here) and on Documentation=man:
# pages that are not installed. So it reads a copy whose ExecStart= is the
# natd under test (the only line changed), with --man=no (systemd 252 has
# it). It exits 0 even when it warns (an unknown key, a value it cannot
# parse and ignores): any output is a failure too.
UNIT_DIR=$(mktemp -d /tmp/natd-unit.XXXXXX)
trap 'rm -rf "$UNIT_DIR"' EXIT
sed "s|^ExecStart=/usr/sbin/natd\$|ExecStart=$(realpath "$1")|" "$UNIT" >"$UNIT_DIR/natd.service"
changed=$(diff "$UNIT" "$UNIT_DIR/natd.service" | grep -c '^>' || true)
((changed == 1)) || fail "expected 'ExecStart=/usr/sbin/natd' in $UNIT (rewritten for verify); $changed lines changed"
rc=0
out=$(cd "$UNIT_DIR" && systemd-analyze verify --man=no "$UNIT_DIR/natd.service" 2>&1) || rc=$?
if ((rc != 0)) || [[ -n $out ]]; then
    fail "systemd-analyze verify --man=no natd.service (ExecStart=$(realpath "$1")): exit $rc:"$'\n'"$out"
fi
pass "systemd-analyze verify --man=no: no complaint (ExecStart= pointed at the natd under test)"

rc=0
out=$(systemd-analyze security --offline=true --no-pager "$UNIT_DIR/natd.service" 2>&1) || rc=$?
((rc == 0)) || fail "systemd-analyze security --offline=true exited $rc:"$'\n'"$out"
exposure=$(sed -n 's/.*Overall exposure level for natd\.service: \([0-9.]*\).*/\1/p' <<<"$out")
[[ $exposure =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "no overall exposure level in:"$'\n'"$out"
info "what systemd-analyze security still counts against the unit:"
grep '^✗' <<<"$out" | sed 's/  */ /g; s/^/    /' || true
awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }' ||
    fail "systemd-analyze security: overall exposure $exposure, more than $MAX_EXPOSURE"
pass "systemd-analyze security --offline=true: overall exposure $exposure (<= $MAX_EXPOSURE)"
rm -rf "$UNIT_DIR"
trap - EXIT

# --- 3-6 need root --------------------------------------------------------------
nd_init integration.unit-file "$1"
command -v setpriv >/dev/null || fail "'setpriv' is missing (package util-linux)"
# 4 is no check without strace: its absence fails, never skips.
command -v strace >/dev/null || fail "'strace' is missing: run tests/install-deps.sh (package strace)"
NATD_REAL=$NATD
NATD_CTL=$(dirname "$NATD_REAL")/natd-ctl

# The unit's capabilities: CapabilityBoundingSet=, AmbientCapabilities=
# (systemd also puts ambient capabilities in the inheritable set),
# NoNewPrivileges=, SecureBits=.
unit_caps() {
    local v caps=()
    for v in $($UNIT_PY values "$UNIT" CapabilityBoundingSet); do caps+=("${v,,}"); done
    local amb=()
    for v in $($UNIT_PY values "$UNIT" AmbientCapabilities); do amb+=("${v,,}"); done
    local bnd inh
    bnd=$(IFS=,; echo "-all,${caps[*]/#/+}")
    inh=$(IFS=,; echo "-all,${amb[*]/#/+}")
    SETPRIV=(setpriv --bounding-set="${bnd//+cap_/+}" --inh-caps="${inh//+cap_/+}"
        --ambient-caps="${inh//+cap_/+}")
    [[ $($UNIT_PY values "$UNIT" NoNewPrivileges) == yes ]] && SETPRIV+=(--no-new-privs)
    local bits=()
    for v in $($UNIT_PY values "$UNIT" SecureBits); do bits+=("+${v//-/_}"); done
    ((${#bits[@]} == 0)) || SETPRIV+=(--securebits="$(IFS=,; echo "${bits[*]}")")
    WANT_CAPS=$(printf '%s\n' "${caps[@]}" | sort | paste -sd' ')
}
unit_caps
info "the unit's credentials as setpriv: ${SETPRIV[*]}"

# wrapper NAME SANDBOX: an executable $T/NAME that natd_start runs instead of
# natd (ip netns exec execs it; it execs natd, so natd keeps the pid):
# SANDBOX "caps" is the unit's credentials, "fs" adds its file-system
# sandbox (see fs_sandbox_script).
wrapper() {
    local name=$1 sandbox=$2 f=$T/$1
    {
        echo '#!/bin/bash'
        echo "# natd under natd.service's restrictions ($sandbox), for $TEST_NAME"
        echo 'set -eu'
        if [[ $sandbox == fs ]]; then
            printf 'exec unshare --mount --propagation private bash -euc %q sandbox "$@"\n' \
                "$(fs_sandbox_script)"$'\n'"exec $(printf '%q ' "${SETPRIV[@]}") -- $(printf '%q' "$NATD_REAL") \"\$@\""
        else
            printf 'exec %s -- %q "$@"\n' "$(printf '%q ' "${SETPRIV[@]}")" "$NATD_REAL"
        fi
    } >"$f"
    chmod +x "$f"
}

# fs_sandbox_script: shell commands that rebuild, in a new mount namespace,
# what systemd mounts for the unit's settings, in systemd's order (by path).
# Paths outside /proc are taken under --root, where natd reads and writes
# (ProtectSystem=strict makes the rest of / read-only too; here only the
# --root tree is). PrivateTmp=, PrivateDevices= and ProtectHome= are left
# out: natd's --root is in /tmp here, and natd opens no device or home.
fs_sandbox_script() {
    local v p opt rw_proc=() procopts=()
    # (systemd creates the StateDirectory= before it sets up the namespace.)
    for v in $($UNIT_PY values "$UNIT" StateDirectory); do
        echo "# StateDirectory=$v"
        printf 'mkdir -p %q\n' "$ROOT/var/lib/$v"
    done
    echo "# ProtectSystem=$($UNIT_PY values "$UNIT" ProtectSystem)"
    if [[ $($UNIT_PY values "$UNIT" ProtectSystem) == strict ]]; then
        printf 'mount --bind %q %q\nmount -o remount,bind,ro %q\n' "$ROOT" "$ROOT" "$ROOT"
    fi
    for v in $($UNIT_PY values "$UNIT" StateDirectory); do
        echo "# StateDirectory=$v: writable"
        printf 'mount --bind %q %q\nmount -o remount,bind,rw %q\n' "$ROOT/var/lib/$v" "$ROOT/var/lib/$v" "$ROOT/var/lib/$v"
    done
    for v in $($UNIT_PY values "$UNIT" ReadWritePaths); do
        opt=no
        p=$v
        [[ $p == -* ]] && opt=yes p=${p#-}
        if [[ $p == /proc/* ]]; then
            rw_proc+=("$opt:$p")
            continue
        fi
        echo "# ReadWritePaths=$v"
        rw_mount "$ROOT$p" "$opt" "ReadWritePaths=$v"
    done
    v=$($UNIT_PY values "$UNIT" ProtectProc)
    [[ -n $v && $v != default ]] && procopts+=("hidepid=$v")
    v=$($UNIT_PY values "$UNIT" ProcSubset)
    [[ $v == pid ]] && procopts+=("subset=pid")
    if ((${#procopts[@]})); then
        echo "# ProtectProc= / ProcSubset=: a new procfs instance"
        echo "mount -t proc -o $(IFS=,; echo "${procopts[*]}") proc /proc"
    fi
    if [[ $($UNIT_PY values "$UNIT" ProtectKernelTunables) == yes ]]; then
        echo "# ProtectKernelTunables=yes (systemd ignores a missing /proc/sys)"
        echo 'if [ -e /proc/sys ]; then mount --bind /proc/sys /proc/sys; mount -o remount,bind,ro /proc/sys; fi'
        echo 'mount -o remount,bind,ro /sys'
    fi
    local why=
    [[ " ${procopts[*]} " == *" subset=pid "* ]] &&
        why=" (ProcSubset=pid mounts /proc with subset=pid, which has no /proc/sys at all)"
    for v in "${rw_proc[@]}"; do
        echo "# ReadWritePaths=${v#*:}"
        rw_mount "${v#*:}" "${v%%:*}" "ReadWritePaths=${v#*:}" "$why"
    done
}

# rw_mount PATH OPTIONAL SETTING [WHY]: PATH made writable; a missing PATH is
# skipped when OPTIONAL ("-" prefix), else fatal as in systemd, where the
# unit then fails with status 226/NAMESPACE before natd runs.
rw_mount() {
    printf 'if [ -e %q ]; then mount --bind %q %q; mount -o remount,bind,rw %q\n' "$1" "$1" "$1" "$1"
    if [[ $2 == no ]]; then
        printf 'else echo %q >&2; exit 226\n' \
            "natd.service sandbox: $3: $1 does not exist at this point of the mount setup${4:-}; systemd fails the unit with status 226/NAMESPACE (\"Failed to set up mount namespacing\") and natd never runs"
    fi
    echo 'fi'
}

# reset_nat: undo what natd did in the NAT instance, so the next natd has
# to do it all again (table, forwarding, routes, files).
reset_nat() {
    ip netns exec "$NS_NAT" nft delete table ip natd 2>/dev/null || true
    ip netns exec "$NS_NAT" sysctl -q -w net.ipv4.ip_forward=0
    local n
    for n in "${HOST_NETS[@]}"; do ip -n "$NS_NAT" route del "10.0.$n.0/24" 2>/dev/null || true; done
    # What the distribution ships (systemd, procps): the directories of
    # ReadWritePaths=-/etc/systemd/network -/etc/sysctl.d exist. (Emptied,
    # not removed: networkd has $ROOT/etc/systemd/network bind-mounted.)
    mkdir -p "$ROOT/etc/sysctl.d" "$ROOT/etc/systemd/network"
    find "$ROOT/etc/sysctl.d" "$ROOT/etc/systemd/network" -mindepth 1 -delete
    rm -rf "$ROOT/var/lib/natd"
}

# check_caps WHAT: natd's /proc/<pid>/status shows only the unit's
# capabilities, and no_new_privs.
check_caps() {
    local status decoded
    status=$(grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' "/proc/$NATD_PID/status") ||
        fail "$1: cannot read /proc/$NATD_PID/status"
    local line key val
    while read -r key val; do
        key=${key%:}
        [[ $key == NoNewPrivs ]] && continue
        decoded=$(capsh --decode="$val" 2>/dev/null | sed 's/^.*=//; s/,/ /g' | tr ' ' '\n' | sort | paste -sd' ')
        [[ $decoded == "$WANT_CAPS" ]] ||
            fail "$1: natd's $key is $val ($decoded), expected only $WANT_CAPS"$'\n'"$status"
    done <<<"$status"
    if [[ " ${SETPRIV[*]} " == *" --no-new-privs "* ]]; then
        grep -q '^NoNewPrivs:[[:space:]]*1' <<<"$status" || fail "$1: natd runs without no_new_privs:"$'\n'"$status"
    fi
    line=$(tr '\n' ' ' <<<"$status")
    pass "$1: natd (pid $NATD_PID) holds only $WANT_CAPS: ${line//$'\t'/}"
}

# ready_status WHAT [PATH=JSON...]: natd-ctl status --json (on the bus, as
# root) says ready, and PATH=JSON.
ready_status() {
    local what=$1 out
    shift
    [[ -x $NATD_CTL ]] || { info "no natd-ctl next to natd: $what status not checked"; return 0; }
    natd_ctl_expect 0 "$what" status --json
    out=$($PY "$INTEG_DIR/status-json.py" expect state='"ready"' nftables.verified=true \
        forwarding=true "$@" <<<"$CTL_OUT" 2>&1) || fail "$what: natd-ctl status --json: $out"$'\n'"$CTL_OUT"
    pass "$what: natd-ctl status --json over the bus: $out"
}

vpc_create card
write_config etc/natd/natd.conf <<EOF
# natd integration test ($TEST_NAME)
[Interfaces]
WaitTimeoutSec=60s

[Routes]
Subnets=$SUBNETS

# The metrics endpoint and textfile: bind, accept, the ENA statistics'
# ioctl (a veth answers it) and natd.prom in ReadWritePaths= (3, 4, 6).
[Metrics]
Listen=127.0.0.1:9647
TextfileDirectory=/var/lib/prometheus/node-exporter
EOF
boot_prepare
reset_nat
mkdir -p "$ROOT/var/lib/prometheus/node-exporter"
dbus_start
# An iptables-legacy filter table (a rule that matters to nothing here):
# natd reads it through an AF_INET socket's getsockopt, which the unit's
# RestrictAddressFamilies= and capabilities must allow (4 and READY check).
ip netns exec "$NS_NAT" iptables-legacy -A FORWARD -i lo -j DROP

# --- 3. the unit's capabilities alone --------------------------------------------
wrapper natd-caps caps
NATD=$T/natd-caps
# A sanitizer build: LeakSanitizer cannot run under ptrace ("LeakSanitizer
# has encountered a fatal error ... does not work under ptrace"), and strace
# watches this natd (4) until it exits. Its leak check is off; every other
# check of the sanitizers stays on, and 5 and 6 run natd with it.
SAN_ASAN_OPTIONS=${ASAN_OPTIONS:-}
[[ -z $SANITIZED ]] || export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
natd_start
natd_settle "the private ENI (CAP_NET_ADMIN only)"
check_caps "3. waiting"
eni_plug
eni_name card
natd_wait_ready
timing "3. CAP_NET_ADMIN only: altname added -> READY=1" $((READY_MS - ENI_ALTNAME_MS))
check_caps "3. READY"
# From here to natd's exit, strace watches the running daemon (for 4).
strace -f -qq -p "$NATD_PID" -o "$T/strace-daemon.log" 2>>"$T/strace.err" &
STRACE_PID=$!
# shellcheck disable=SC2317 # called through wait_until
traced() { grep -q "^TracerPid:[[:space:]]*$STRACE_PID\$" "/proc/$NATD_PID/status"; }
wait_until 10 traced || fail "3. strace did not attach to natd within 10s: $(cat "$T/strace.err")"
check_egress " (CAP_NET_ADMIN only)"
check_inbound_blocked
out=$(ip netns exec "$NS_NAT" curl -sS --max-time 5 http://127.0.0.1:9647/metrics 2>&1) ||
    fail "3. GET /metrics under CAP_NET_ADMIN only: $out"
[[ $out == *'natd_state{state="ready"} 1'* ]] || fail "3. GET /metrics does not say ready:"$'\n'"$out"
[[ -s $ROOT/var/lib/prometheus/node-exporter/natd.prom ]] || fail "3. no natd.prom under CAP_NET_ADMIN only"
pass "3. GET /metrics and natd.prom under CAP_NET_ADMIN only"
check_nat_state
check_sysctl_file
ready_status "3. CAP_NET_ADMIN only"
natd_ctl_expect 0 "3. reapply under CAP_NET_ADMIN only" reapply
pass "3. natd-ctl reapply: natd re-applied everything with CAP_NET_ADMIN only"
natd_ctl_expect 0 "3. reload under CAP_NET_ADMIN only" reload
pass "3. natd-ctl reload under CAP_NET_ADMIN only"
ip -n "$NS_NAT" route del 10.0.3.0/24
wait_until 10 routes_as "$NATD_PROTO" || fail "3. natd did not restore a deleted route with CAP_NET_ADMIN only: $WAIT_OUT"
pass "3. a deleted return route is restored with CAP_NET_ADMIN only"
ready_status "3. after reapply, reload and a repair"
check_sigterm

# --- 4. syscalls, socket families, W+X -------------------------------------------
wait_exit "$STRACE_PID" 10 || fail "4. strace did not end within 10s of natd's exit"
((EXIT_RC == 0)) || fail "4. strace watching natd exited $EXIT_RC: $(cat "$T/strace.err")"
out=$($UNIT_PY syscalls "$UNIT" "$T/strace-daemon.log" - 2>&1) ||
    fail "4. the running natd (bus calls, reapply, reload, repair, SIGTERM) against the unit's filters:"$'\n'"$out"
pass "4. the running natd (bus calls, reapply, reload, repair, SIGTERM): $out"
reset_nat
rc=0
ip netns exec "$NS_NAT" strace -f -qq -o "$T/strace.log" -- "$T/natd-caps" --root "$ROOT" --once \
    </dev/null >>"$T/natd.log" 2>&1 || rc=$?
((rc == 0)) || fail "4. natd --once under strace (CAP_NET_ADMIN only) exited $rc:"$'\n'"$(tail -n 20 "$T/natd.log")"
out=$($UNIT_PY syscalls "$UNIT" "$T/strace.log" "$NATD_REAL" 2>&1) ||
    fail "4. natd --once (from scratch, on the bus) against the unit's filters:"$'\n'"$out"
pass "4. natd --once from scratch: $out"

[[ -z $SANITIZED ]] || export ASAN_OPTIONS="$SAN_ASAN_OPTIONS"

# --- 5. next to systemd-networkd, CAP_NET_ADMIN only ------------------------------
# natd writes the drop-in and calls networkd's Reload over the bus; networkd
# checks the caller's CAP_NET_ADMIN.
reset_nat
natd_forget_notify
boot_release_links "$PUB_DEV" "$PRIV_DEV"
write_network_file "$PUB_DEV" "Name=$PUB_DEV" "Address=$PUB_IP/24" "Gateway=$INET_IP"
write_network_file "$PRIV_DEV" "Name=$PRIV_DEV" "Address=$PRIV_IP/24"
networkd_start
log_from=$(($(wc -l <"$T/natd.log") + 1))
NATD=$T/natd-caps
natd_start
natd_wait_ready
timing "5. networkd, CAP_NET_ADMIN only: natd started -> READY=1" $((READY_MS - NATD_START_MS))
check_caps "5. READY next to networkd"
out=$(routes_as static) || fail "5. READY=1, but the return routes are not systemd-networkd's: $out"
pass "5. the return routes are networkd's: $out"
check_dropin "etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf"
tail -n +"$log_from" "$T/natd.log" >"$T/natd-5.log"
check_networkd_calls "$T/natd-5.log" "5. CAP_NET_ADMIN only" 1
check_egress " (networkd, CAP_NET_ADMIN only)"
ready_status "5. networkd, CAP_NET_ADMIN only" route_owner='"networkd"'
check_sigterm

# --- 6. the unit's file-system sandbox (networkd still running) --------------------
reset_nat
natd_forget_notify
wrapper natd-sandboxed fs
info "6. the unit's sandbox, as rebuilt from $UNIT (then the credentials of 3):"
fs_sandbox_script | sed 's/^/    /'
# The sandbox alone first (with `true` for natd): a unit whose namespace
# cannot be set up fails before natd runs.
rc=0
out=$(ip netns exec "$NS_NAT" unshare --mount --propagation private bash -euc "$(fs_sandbox_script)" sandbox 2>&1) || rc=$?
((rc == 0)) || fail "6. the unit's file-system sandbox cannot be set up (exit $rc): $out"
pass "6. the unit's file-system sandbox can be set up"
NATD=$T/natd-sandboxed
natd_start
natd_wait_ready
timing "6. unit sandbox: natd started -> READY=1 (ENIs present, networkd)" $((READY_MS - NATD_START_MS))
check_caps "6. READY in the sandbox"
check_egress " (unit sandbox)"
check_nat_state
out=$(routes_as static) || fail "6. READY=1 in the sandbox, but the return routes are not systemd-networkd's: $out"
pass "6. the return routes are networkd's: $out"
check_sysctl_file
check_registry /etc/sysctl.d/90-natd.conf "/etc/systemd/network/70-$PRIV_DEV.network.d/natd.conf"
ready_status "6. unit sandbox" route_owner='"networkd"'
check_sigterm
