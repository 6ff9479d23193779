#!/usr/bin/env bash
# Installs the DEB on this machine with dpkg and checks the installed files,
# modes, conffile, enablement, `systemd-analyze verify` of the unit (man
# pages resolve), natd --check-config on the shipped configuration, the man
# pages and the bash completion. Then lets the installed natd NAT a network
# namespace (natd --once: nftables table, return routes, sysctl file, drop-in,
# state), removes the package with `dpkg -r` inside that namespace and checks
# that the prerm's teardown undid all of it and only the edited conffile and
# an administrator's drop-in stayed; then `dpkg --purge` and checks that
# nothing at all is left.
# Usage: deb-install.sh OUT_DIR   (root)
set -euo pipefail
PKG_TEST_NAME=packaging.deb-install
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"

out=${1:?usage: $0 OUT_DIR}
need_root "dpkg -i, network namespaces"
need_tools dpkg dpkg-query ip nft systemd-analyze man unshare
[[ -r /usr/share/bash-completion/bash_completion ]] || fail "bash-completion is missing: run tests/install-deps.sh"
find_packages "$out"

NS=natd-pkg-$$
T=$(mktemp -d /tmp/natd-pkg-install.XXXXXX)
MARK=/run/natd-packaging-test.installed  # "this test installed natd"
# natd, its teardown and dpkg's scripts run without a system bus, so that the
# result does not depend on whether this machine runs dbus (as in CI).
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/natd-packaging-test
WROTE=()  # files natd --once wrote, from its record

in_ns() { ip netns exec "$NS" "$@"; }
cleanup() {
    local rc=$? f
    set +e
    if [[ -e $MARK ]] && dpkg-query -W natd >/dev/null 2>&1; then
        info "cleanup: purging the natd package this test installed"
        ip netns list | grep -qw "$NS" || ip netns add "$NS"
        in_ns dpkg --purge natd >>"$T/cleanup.log" 2>&1
    fi
    rm -f "$MARK"
    for f in "${WROTE[@]}"; do
        [[ -e $f ]] && rm -f "$f" && info "cleanup: removed $f, left by natd"
        rmdir "$(dirname "$f")" 2>/dev/null
    done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT

# --- preconditions: never touch an installation that is not ours -----------------
if dpkg-query -W -f='${db:Status-Status}' natd 2>/dev/null | grep -qv '^not-installed$'; then
    if [[ -e $MARK ]]; then
        info "a previous run left natd installed: purging it"
        dpkg --purge natd >/dev/null
        rm -f "$MARK"
    else
        fail "a natd package is installed on this machine already (dpkg -l natd); refusing to touch it"
    fi
fi
for f in /usr/sbin/natd /usr/bin/natd-ctl /etc/natd /var/lib/natd /etc/sysctl.d/90-natd.conf; do
    [[ ! -e $f ]] || fail "$f exists without the natd package (an installation from source?); remove it first"
done
leftover=$(find /etc/systemd/network -path '*.network.d/natd.conf' 2>/dev/null || true)
[[ -z $leftover ]] || fail "natd drop-ins exist without the natd package: $leftover"

# --- install -----------------------------------------------------------------------------
touch "$MARK"
dpkg -i "$DEB" >"$T/dpkg-i.log" 2>&1 || { cat "$T/dpkg-i.log" >&2; fail "dpkg -i failed"; }
[[ $(dpkg-query -W -f='${db:Status-Abbrev}' natd) == "ii " ]] || fail "natd not installed: $(dpkg -l natd | tail -n1)"
pass "dpkg -i $(basename "$DEB"): installed"

listed=$(dpkg -L natd | while read -r p; do [[ -d $p && ! -L $p ]] || echo "$p"; done | sort)
expected=$( (expected_payload && printf '%s\n' /usr/share/doc/natd/changelog.gz /usr/share/doc/natd/copyright) | sort)
[[ $listed == "$expected" ]] || fail "dpkg -L natd:"$'\n'"$(diff <(echo "$expected") <(echo "$listed") || true)"
while read -r f; do
    want=0644
    [[ $f == /usr/sbin/natd || $f == /usr/bin/natd-ctl ]] && want=0755
    [[ $(stat -c '%a %U:%G' "$f") == "${want#0} root:root" ]] ||
        fail "$f: $(stat -c '%a %U:%G' "$f"), expected ${want#0} root:root"
done <<<"$listed"
pass "installed: binaries 0755, unit, policy, config, man pages, completion 0644, all root:root"

conffiles=$(dpkg-query -W -f='${Conffiles}' natd)
grep -q '^ /etc/natd/natd.conf [0-9a-f]\{32\}$' <<<"$conffiles" || fail "natd.conf is not a conffile: '$conffiles'"
pass "/etc/natd/natd.conf is a conffile"
[[ -L /etc/systemd/system/multi-user.target.wants/natd.service ]] ||
    fail "postinst did not enable natd.service (no multi-user.target.wants link)"
pass "postinst enabled natd.service ($(readlink /etc/systemd/system/multi-user.target.wants/natd.service))"

if ! verify=$(systemd-analyze verify /usr/lib/systemd/system/natd.service 2>&1); then
    fail "systemd-analyze verify natd.service:"$'\n'"$verify"
fi
pass "systemd-analyze verify natd.service: clean${verify:+ ($verify)}"
for page in natd.8 natd-ctl.8 natd.conf.5; do
    found=$(man -w "${page##*.}" "${page%.*}" 2>&1) || fail "man cannot find $page: $found"
    [[ $found == "/usr/share/man/man${page##*.}/$page.gz" ]] || fail "man -w ${page##*.} ${page%.*}: $found"
done
pass "man finds natd(8), natd-ctl(8), natd.conf(5)"

check=$(natd --check-config 2>&1) || fail "natd --check-config on the shipped /etc/natd/natd.conf: $check"
ctl=$(natd-ctl check-config 2>&1) || fail "natd-ctl check-config: $ctl"
grep -q "$(dpkg-deb -f "$DEB" Version)" <<<"$(natd --version)" || fail "natd --version: $(natd --version)"
pass "natd --check-config and natd-ctl check-config accept the shipped configuration ($check)"

# shellcheck disable=SC2016 # expanded by the inner bash
completion=$(bash -c '
    source /usr/share/bash-completion/bash_completion
    try() {
        COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
        _completion_loader natd-ctl >/dev/null 2>&1 || true
        local func
        func=$(complete -p natd-ctl | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
        "$func" natd-ctl "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
        echo "${COMPREPLY[*]}"
    }
    try natd-ctl ""
    try natd-ctl status --
    try natd-ctl --r
' 2>&1)
[[ $completion == $'status reload reapply check-config teardown\n--json\n--root' ]] ||
    fail "bash completion of natd-ctl gave:"$'\n'"$completion"
pass "bash completion (loaded on demand from /usr/share/bash-completion/completions): commands, status --json, --root"

# Reinstalling over an edited conffile keeps the edit and asks nothing.
echo "# edited by the packaging test" >>/etc/natd/natd.conf
dpkg -i "$DEB" >"$T/dpkg-reinstall.log" 2>&1 </dev/null || { cat "$T/dpkg-reinstall.log" >&2; fail "dpkg -i (reinstall) failed"; }
tail -n1 /etc/natd/natd.conf | grep -q 'edited by the packaging test' || fail "reinstalling lost the edit of natd.conf"
[[ ! -e /etc/natd/natd.conf.dpkg-dist && ! -e /etc/natd/natd.conf.dpkg-old ]] || fail "reinstalling left natd.conf.dpkg-*"
pass "reinstalling (postinst configure OLD-VERSION) keeps the edited natd.conf"

# --- natd NATs a network namespace --------------------------------------------------------
ip netns add "$NS"
in_ns ip link set lo up
# veth pairs, both ends in the namespace (the dummy driver may be missing).
in_ns ip link add ens5 type veth peer name ens5-peer
in_ns ip link add ens6 type veth peer name ens6-peer
in_ns ip link set ens5-peer up
in_ns ip link set ens6-peer up
in_ns ip link property add dev ens5 altname device-number-0.0
in_ns ip link property add dev ens6 altname device-number-1.0
in_ns ip addr add 203.0.113.10/24 dev ens5
in_ns ip addr add 10.0.1.10/24 dev ens6
in_ns ip link set ens5 up
in_ns ip link set ens6 up
# The internet gateway's default route: natd --once waits until NAT would
# work (a packet's route lookups), not just until it applied.
in_ns ip route add default via 203.0.113.1 dev ens5
cat >/etc/natd/natd.conf.d/50-packaging-test.conf <<'EOF'
# An administrator's drop-in (tests/packaging/deb-install.sh).
[Interfaces]
WaitTimeoutSec=30s
[Routes]
Subnets=10.0.1.0/24 10.0.2.0/24 10.0.3.0/24
EOF
dirs_before=$(find /etc/systemd/network -name '*.network.d' 2>/dev/null | sort || true)
# Hide systemd-networkd's link state, if this machine has any: natd must not
# mistake the namespace's interfaces for the host's.
if ! in_ns unshare --mount --propagation private /bin/sh -c \
    '[ ! -d /run/systemd/netif ] || mount -t tmpfs natd-packaging-test /run/systemd/netif; exec natd --once' \
    >"$T/natd-once.log" 2>&1; then
    cat "$T/natd-once.log" >&2
    fail "natd --once in namespace $NS failed"
fi
in_ns nft list table ip natd >/dev/null 2>&1 || fail "natd --once: no nftables table ip natd"
routes=$(in_ns ip -4 route show proto 213)
grep -q '^10.0.2.0/24 via 10.0.1.1 dev ens6' <<<"$routes" || fail "natd --once: no return route: $routes"
[[ -s /var/lib/natd/files ]] || fail "natd --once: no /var/lib/natd/files"
mapfile -t WROTE < <(grep '^/' /var/lib/natd/files)
for f in /etc/sysctl.d/90-natd.conf "${WROTE[@]}"; do
    [[ -f $f ]] || fail "natd --once: $f is missing (recorded: ${WROTE[*]})"
done
pass "the installed natd NATed namespace $NS: table ip natd, routes $(tr '\n' ';' <<<"$routes"), wrote ${WROTE[*]}"

# --- dpkg -r ---------------------------------------------------------------------------------
if ! in_ns dpkg -r natd >"$T/dpkg-r.log" 2>&1; then
    cat "$T/dpkg-r.log" >&2
    fail "dpkg -r natd failed"
fi
info "dpkg -r natd said:"
sed 's/^/    /' "$T/dpkg-r.log"
[[ $(dpkg-query -W -f='${db:Status-Status}' natd) == config-files ]] ||
    fail "after dpkg -r natd is '$(dpkg-query -W -f='${db:Status-Status}' natd)', not config-files"
if grep -q "natd --teardown' failed" "$T/dpkg-r.log"; then
    fail "prerm: natd --teardown failed (does this natd have --teardown? natd --help must list it)"
fi
in_ns nft list table ip natd >/dev/null 2>&1 && fail "after dpkg -r the nftables table ip natd is still there"
left_routes=$(in_ns ip -4 route show proto 213)
[[ -z $left_routes ]] || fail "after dpkg -r natd's routes are still there: $left_routes"
for f in "${WROTE[@]}" /var/lib/natd; do
    [[ ! -e $f ]] || fail "after dpkg -r $f is still there"
done
dirs_after=$(find /etc/systemd/network -name '*.network.d' 2>/dev/null | sort || true)
[[ $dirs_after == "$dirs_before" ]] ||
    fail "after dpkg -r the drop-in directories differ:"$'\n'"$(diff <(echo "$dirs_before") <(echo "$dirs_after") || true)"
pass "prerm's natd --teardown removed the table, the routes, ${WROTE[*]} (and its directory), /var/lib/natd"
for f in $(expected_payload | grep -v '^/etc/natd/natd.conf$') /usr/share/doc/natd; do
    [[ ! -e $f ]] || fail "after dpkg -r $f is still there"
done
[[ -f /etc/natd/natd.conf && -f /etc/natd/natd.conf.d/50-packaging-test.conf ]] ||
    fail "dpkg -r removed the conffile or the administrator's drop-in"
left=$(find /etc/natd | sort | tr '\n' ' ')
[[ $left == "/etc/natd /etc/natd/natd.conf /etc/natd/natd.conf.d /etc/natd/natd.conf.d/50-packaging-test.conf " ]] ||
    fail "after dpkg -r /etc/natd holds: $left"
pass "after dpkg -r only the configuration stays: $left"

# --- dpkg --purge -----------------------------------------------------------------------------
in_ns dpkg --purge natd >"$T/dpkg-purge.log" 2>&1 || { cat "$T/dpkg-purge.log" >&2; fail "dpkg --purge natd failed"; }
rm -f "$MARK"
status=$(dpkg-query -W -f='${db:Status-Status}' natd 2>/dev/null || echo not-installed)
[[ $status == not-installed ]] || fail "after dpkg --purge natd is '$status'"
for f in /etc/natd /var/lib/natd /etc/systemd/system/multi-user.target.wants/natd.service \
    /var/lib/systemd/deb-systemd-helper-enabled/natd.service.dsh-also \
    /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/natd.service; do
    [[ ! -e $f && ! -L $f ]] || fail "after dpkg --purge $f is still there"
done
pass "after dpkg --purge nothing is left: no /etc/natd, /var/lib/natd, enablement links or deb-systemd-helper state"
done_ok
