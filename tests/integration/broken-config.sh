#!/usr/bin/env bash
# Broken configurations: natd (normal mode, and --check-config) must exit 2,
# print FILE:LINE for the error, and touch neither the kernel (no table
# ip natd, no routes, ip_forward still 0) nor the --root tree. Both ENIs exist
# with their altnames, so nothing but the config stops natd from applying; a
# valid config is the control (--check-config accepts it, --once applies it).
# Usage: broken-config.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

lib_init integration.broken-config "$@"
ENI_STEP_DELAY=0
vpc_create card
eni_plug
eni_name card

RUN_TIMEOUT=10  # a config error is reported at once; more means natd applied
SLOWEST_CHECK=0
SLOWEST_RUN=0

valid_config() {
    cat <<EOF
[Interfaces]
Public=device-number-0
Private=device-number-1
WaitTimeoutSec=5s

[Routes]
Subnets=$SUBNETS
EOF
}

# What natd may change in the NAT instance.
kernel_state() {
    ip netns exec "$NS_NAT" nft list ruleset
    ip -n "$NS_NAT" -4 -j route show table all
    ip -n "$NS_NAT" -j rule show
    ip -n "$NS_NAT" -j link show
    echo "ip_forward=$(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward)"
}

# Listing (type, mode, size, mtime) and checksums of the --root tree.
fs_state() {
    (
        cd "$ROOT"
        find . -printf '%p %y %m %s %T@\n' | LC_ALL=C sort
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    )
}

# run_natd LABEL ARGS...: natd in the NAT instance, bounded by RUN_TIMEOUT.
# Sets RC, ERR (its stderr) and MS (wall time).
run_natd() {
    local label=$1 t0 t1
    shift
    now_ms t0
    RC=0
    timeout "$RUN_TIMEOUT" ip netns exec "$NS_NAT" "$NATD" --root "$ROOT" "$@" \
        </dev/null >"$T/out" 2>"$T/err" || RC=$?
    now_ms t1
    MS=$((t1 - t0))
    ERR=$(<"$T/err")
    ((RC != 124)) ||
        fail "$label: natd $* was still running after ${RUN_TIMEOUT}s: it accepted the configuration (stderr: $ERR)"
}

# broken_case NAME WHERE [--config FILE]: $ROOT holds a broken config whose
# error is at WHERE ("etc/natd/natd.conf:3"): run natd both ways and check.
broken_case() {
    local name=$1 where=$2 mode kernel_before fs_before
    shift 2
    kernel_before=$(kernel_state)
    fs_before=$(fs_state)
    for mode in --check-config normal; do
        local args=("$@")
        [[ $mode == normal ]] || args+=("$mode")
        run_natd "$name ($mode)" "${args[@]}"
        ((RC == 2)) ||
            fail "$name ($mode): natd exited with status $RC, expected 2 (config error); stderr: $ERR"
        grep -qF "$where:" <<<"$ERR" ||
            fail "$name ($mode): stderr does not point at $where: (FILE:LINE: message expected); stderr: $ERR"
        if [[ $mode == normal ]]; then
            ((MS > SLOWEST_RUN)) && SLOWEST_RUN=$MS
        else
            ((MS > SLOWEST_CHECK)) && SLOWEST_CHECK=$MS
        fi
        [[ $(kernel_state) == "$kernel_before" ]] ||
            fail "$name ($mode): natd changed the kernel: $(diff <(echo "$kernel_before") <(kernel_state))"
        [[ $(fs_state) == "$fs_before" ]] ||
            fail "$name ($mode): natd changed the --root tree: $(diff <(echo "$fs_before") <(fs_state))"
        info "$name ($mode): exit 2 in $MS ms: $(grep -F "$where:" <<<"$ERR" | head -n 1)"
    done
    ! ip netns exec "$NS_NAT" nft list table ip natd >/dev/null 2>&1 ||
        fail "$name: table ip natd exists"
    [[ $(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward) == 0 ]] ||
        fail "$name: net.ipv4.ip_forward changed"
    pass "$name: rejected with $where by --check-config and by the daemon; kernel and --root untouched"
}

# fresh_root: an empty --root with the config directory.
fresh_root() {
    rm -rf "$ROOT"
    mkdir -p "$ROOT/etc/natd"
}

# --- broken configurations ---------------------------------------------------

fresh_root
write_config etc/natd/natd.conf <<EOF
[Interfaces]
Public=device-number-0
Publik=ens5
[Routes]
Subnets=$SUBNETS
EOF
broken_case "unknown key" etc/natd/natd.conf:3

fresh_root
write_config etc/natd/natd.conf <<EOF
[Routes]
Subnets=10.0.1.0/24 10.0.2.0/33 10.0.3.0/24
EOF
broken_case "bad CIDR" etc/natd/natd.conf:2

fresh_root
write_config etc/natd/natd.conf <<EOF
[Interfaces]
Private=02:00:0a:00:01:0g
[Routes]
Subnets=$SUBNETS
EOF
broken_case "bad MAC selector" etc/natd/natd.conf:2

fresh_root
write_config etc/natd/natd.conf <<EOF
[Interfaces]
WaitTimeoutSec=30x
[Routes]
Subnets=$SUBNETS
EOF
broken_case "bad duration" etc/natd/natd.conf:2

fresh_root
valid_config | write_config etc/natd/natd.conf
write_config etc/natd/natd.conf.d/50-broken.conf <<EOF
[Routes]
Subnets=10.0.4.0/24 not-a-cidr
EOF
broken_case "broken drop-in" etc/natd/natd.conf.d/50-broken.conf:2

fresh_root
valid_config | write_config etc/natd/custom.conf
write_config etc/natd/custom.conf.d/10-gateway.conf <<EOF
[Routes]
Gateway=10.0.1.256
EOF
broken_case "broken drop-in of --config /etc/natd/custom.conf" \
    etc/natd/custom.conf.d/10-gateway.conf:2 --config /etc/natd/custom.conf

timing "config error -> exit, --check-config (slowest case)" "$SLOWEST_CHECK"
timing "config error -> exit, daemon mode (slowest case)" "$SLOWEST_RUN"

# --- control: the same machine with a valid config ---------------------------

fresh_root
valid_config | write_config etc/natd/natd.conf
kernel_before=$(kernel_state)
fs_before=$(fs_state)
run_natd "valid config (--check-config)" --check-config
((RC == 0)) || fail "control: natd --check-config rejected a valid config (status $RC): $ERR"
[[ $(kernel_state) == "$kernel_before" ]] ||
    fail "control: natd --check-config changed the kernel: $(diff <(echo "$kernel_before") <(kernel_state))"
[[ $(fs_state) == "$fs_before" ]] || fail "control: natd --check-config changed the --root tree"
pass "control: a valid config passes --check-config ($MS ms) without touching the kernel"

run_natd "valid config (--once)" --once
((RC == 0)) || fail "control: natd --once failed (status $RC) with a valid config: $ERR"
ip netns exec "$NS_NAT" nft list table ip natd >/dev/null ||
    fail "control: natd --once exited 0 but table ip natd does not exist"
pass "control: with a valid config natd --once applies here ($MS ms), so the rejections above were the config's doing"
