#!/usr/bin/env bash
# [Conntrack] in the simulated VPC (no networkd, natd on a private bus),
# with TCPEstablishedTimeoutSec=600, UDPTimeoutSec=180 and Max=100000:
#   - the timeouts are in the kernel (per network namespace) and in
#     /etc/sysctl.d/90-natd.conf, each with systemd-sysctl's "-";
#   - nf_conntrack_max is global to the kernel and read-only in the test's
#     namespace: natd stays ready and says in status that Max= was not
#     applied, rather than failing;
#   - a timeout changed behind natd's back is put back (natd looks every
#     5 s: nothing announces a sysctl change) and counted as a repair;
#   - the table filled above 80% (UDP datagrams from the NAT instance to
#     TEST-NET-2 addresses, which stay in the test's namespaces) is a
#     warning in status within the 5 s natd reads its fill, and it goes once
#     the table is flushed (conntrack -F). NAT works throughout;
#   - /etc/modprobe.d/natd.conf (nf_conntrack's hashsize) is written only
#     where nf_conntrack is a loadable module. This machine's kernel has it
#     built in and loads no modules, so the module case cannot be tested
#     here (it is unit-tested: persisted-files_test.cpp, reconciler_test.cpp,
#     kernel-module_test.cpp); here natd must write none.
# Usage: conntrack.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.conntrack "$@"
command -v conntrack >/dev/null || fail "conntrack is missing: run tests/install-deps.sh (package conntrack)"
vpc_create card
write_test_config
printf '%s\n' '' '[Conntrack]' 'TCPEstablishedTimeoutSec=10min' 'UDPTimeoutSec=3min' 'Max=100000' \
    >>"$ROOT/etc/natd/natd.conf"
boot_prepare
dbus_start
drift_ready
nat_sysctl() {
    ip netns exec "$NS_NAT" sysctl -n "$1"
}

# --- applied and persisted ---------------------------------------------------------------
[[ $(nat_sysctl net.netfilter.nf_conntrack_tcp_timeout_established) == 600 ]] ||
    fail "nf_conntrack_tcp_timeout_established is $(nat_sysctl net.netfilter.nf_conntrack_tcp_timeout_established), expected 600"
[[ $(nat_sysctl net.netfilter.nf_conntrack_udp_timeout_stream) == 180 ]] ||
    fail "nf_conntrack_udp_timeout_stream is $(nat_sysctl net.netfilter.nf_conntrack_udp_timeout_stream), expected 180"
pass "timeouts in the kernel: established TCP 600 s, UDP stream 180 s"
f=$ROOT/$SYSCTL_REL
for line in '-net.netfilter.nf_conntrack_tcp_timeout_established = 600' \
    '-net.netfilter.nf_conntrack_udp_timeout_stream = 180' '-net.netfilter.nf_conntrack_max = 100000'; do
    grep -qxF -- "$line" "$f" || fail "$SYSCTL_REL lacks '$line':"$'\n'"$(<"$f")"
done
pass "$SYSCTL_REL persists them: $(grep -c '^-net.netfilter' "$f") conntrack settings"
modprobe=$ROOT/etc/modprobe.d/natd.conf
if [[ -e /sys/module/nf_conntrack/initstate ]]; then  # a loadable module (not this machine)
    grep -qx 'options nf_conntrack hashsize=100352' "$modprobe" ||
        fail "nf_conntrack is a module: /etc/modprobe.d/natd.conf lacks 'options nf_conntrack hashsize=100352' (Max=100000, rounded)"
    pass "nf_conntrack is a module: /etc/modprobe.d/natd.conf sets hashsize=100352"
else
    [[ ! -e $modprobe ]] || fail "nf_conntrack is built in, yet natd wrote /etc/modprobe.d/natd.conf:"$'\n'"$(<"$modprobe")"
    pass "nf_conntrack is built into this kernel: no /etc/modprobe.d/natd.conf"
fi

# --- Max= read-only here -------------------------------------------------------------------
max=$(nat_sysctl net.netfilter.nf_conntrack_max)
wait_until 5 state_is ready "nf_conntrack_max is $max, not 100000 as configured" ||
    fail "Max=100000 in a namespace: natd is not ready saying it could not apply it: $WAIT_OUT"
ctl_status 0
pass "Max=100000 cannot be set in a network namespace: ready, and status says so: $(sj_get warnings)"
repairs0=$(sj_get repairs)

# --- drift ---------------------------------------------------------------------------------
ip netns exec "$NS_NAT" sysctl -q -w net.netfilter.nf_conntrack_tcp_timeout_established=432000
now_ms t0
put_back() {
    local v
    v=$(nat_sysctl net.netfilter.nf_conntrack_tcp_timeout_established)
    [[ $v == 600 ]] || { echo "still $v"; return 1; }
}
wait_until 8 put_back || fail "nf_conntrack_tcp_timeout_established set to 432000 was not put back: $WAIT_OUT"
now_ms t1
ctl_status 0
(($(sj_get repairs) == repairs0 + 1)) || fail "the repair was not counted (repairs $repairs0 -> $(sj_get repairs))"
timing "conntrack timeout changed -> put back (natd looks every 5 s)" $((t1 - t0))
pass "a changed timeout is put back within $((t1 - t0)) ms and counted (repairs $repairs0 -> $(sj_get repairs))"

# --- the table more than 80% full ----------------------------------------------------------
fill_count=$((max * 85 / 100))
ip netns exec "$NS_NAT" "$PY" "$INTEG_DIR/conntrack-fill.py" "$fill_count" 198.51.100.1 198.51.100.2 \
    198.51.100.3 198.51.100.4 198.51.100.5 198.51.100.6 198.51.100.7 198.51.100.8 >/dev/null ||
    fail "could not send $fill_count datagrams"
count=$(nat_sysctl net.netfilter.nf_conntrack_count)
((count * 100 > max * 80)) || fail "the table holds $count of $max entries after the fill: the test tests nothing"
info "conntrack table filled: $count of $max entries"
wait_until 15 state_is ready "the conntrack table is" ||
    fail "the conntrack table $((count * 100 / max))% full: no warning in status: $WAIT_OUT"
ctl_status 0
pass "conntrack table $count of $max: status warns: $(sj_get warnings)"
ip netns exec "$NS_NAT" conntrack -F 2>/dev/null
cleared() {
    ctl_status >/dev/null
    [[ $(sj_get warnings) != *"the conntrack table is"* ]] || { echo "still: $(sj_get warnings)"; return 1; }
}
wait_until 8 cleared || fail "the table flushed, the warning stays: $WAIT_OUT"
pass "flushed: the warning is gone"
check_egress " (after the fill)"
