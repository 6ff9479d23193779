#!/usr/bin/env bash
# shellcheck disable=SC2016 # the inner /bin/sh expands its own $1
# Runs the DEB's maintainer scripts and the cpack RPM's scriptlets for each
# dpkg/rpm action, with stand-ins for natd, systemctl, deb-systemd-helper,
# deb-systemd-invoke and rm that only record how they were called, in a
# private mount namespace whose /run has (or lacks) /run/systemd/system.
# Checks what each action calls, and in which order. Then installs and
# erases the RPM in a scratch root to see %config(noreplace) at work.
# Usage: scriptlets.sh OUT_DIR   (root: mount namespace)
set -euo pipefail
PKG_TEST_NAME=packaging.scriptlets
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"

out=${1:?usage: $0 OUT_DIR}
need_root "a private mount namespace with its own /run"
need_tools unshare dpkg-deb rpm
find_packages "$out"
T=$(mktemp -d /tmp/natd-pkg-scriptlets.XXXXXX)
trap 'rm -rf "$T"' EXIT

mkdir -p "$T/deb" "$T/rpm" "$T/bin"
dpkg-deb --ctrl-tarfile "$DEB" | tar -x -C "$T/deb"
for tag in POSTIN PREUN POSTUN; do
    rpm -qp --qf "%{$tag}" "$RPM" >"$T/rpm/$tag"
done
for cmd in natd systemctl deb-systemd-helper deb-systemd-invoke rm; do
    cat >"$T/bin/$cmd" <<EOF
#!/bin/sh
echo "$cmd \$*" >>"$T/calls"
case "$cmd \$1" in
"natd --teardown") exit "\${FAKE_TEARDOWN_RC:-0}" ;;
"deb-systemd-helper was-enabled" | "deb-systemd-helper --quiet") exit "\${FAKE_WAS_ENABLED_RC:-0}" ;;
esac
exit 0
EOF
    chmod 0755 "$T/bin/$cmd"
done

# run SYSTEMD(yes|no) SCRIPT ARG...: runs SCRIPT with /bin/sh; CALLS gets the
# recorded calls, one per line, STDERR what it printed there, RC its status.
run() {
    local systemd=$1 script=$2
    shift 2
    : >"$T/calls"
    RC=0
    unshare --mount --propagation private /bin/sh -c '
        mount -t tmpfs natd-packaging-test /run || exit 99
        if [ "$1" = yes ]; then mkdir -p /run/systemd/system; fi
        shift
        PATH=$0:$PATH exec /bin/sh "$@"
    ' "$T/bin" "$systemd" "$script" "$@" >/dev/null 2>"$T/stderr" || RC=$?
    ((RC != 99)) || fail "could not mount a tmpfs on /run in a private mount namespace"
    CALLS=$(<"$T/calls")
    STDERR=$(<"$T/stderr")
}
# expect DESCRIPTION EXPECTED_CALLS: RC must be 0 and CALLS exactly EXPECTED.
expect() {
    ((RC == 0)) || fail "$1: exit status $RC; stderr: $STDERR"
    [[ $CALLS == "$2" ]] || fail "$1: calls were"$'\n'"${CALLS:-(none)}"$'\n'"expected"$'\n'"${2:-(none)}"
    pass "$1: $(tr '\n' ';' <<<"${CALLS:-(none)}" | sed 's/;$//; s/;/; /g')"
}

# --- DEB -----------------------------------------------------------------------------
enable_calls='deb-systemd-helper unmask natd.service
deb-systemd-helper --quiet was-enabled natd.service
deb-systemd-helper enable natd.service'
run yes "$T/deb/postinst" configure ''
expect "deb postinst configure (installation, systemd)" "systemctl --system daemon-reload
$enable_calls"
run no "$T/deb/postinst" configure ''
expect "deb postinst configure (installation, no systemd)" "$enable_calls"
run yes "$T/deb/postinst" configure 0.0.1
expect "deb postinst configure (upgrade, systemd)" "systemctl --system daemon-reload
$enable_calls
deb-systemd-invoke try-restart natd.service"
FAKE_WAS_ENABLED_RC=1 run yes "$T/deb/postinst" configure 0.0.1
expect "deb postinst configure (upgrade, disabled by the administrator)" "systemctl --system daemon-reload
deb-systemd-helper unmask natd.service
deb-systemd-helper --quiet was-enabled natd.service
deb-systemd-helper update-state natd.service
deb-systemd-invoke try-restart natd.service"

run yes "$T/deb/prerm" remove
expect "deb prerm remove (systemd)" "deb-systemd-invoke stop natd.service
natd --teardown"
run no "$T/deb/prerm" remove
expect "deb prerm remove (no systemd)" "natd --teardown"
FAKE_TEARDOWN_RC=1 run yes "$T/deb/prerm" remove
grep -q "natd --teardown' failed" <<<"$STDERR" || fail "deb prerm: a failed teardown is not reported: $STDERR"
expect "deb prerm remove (teardown fails: reported, removal goes on)" "deb-systemd-invoke stop natd.service
natd --teardown"
for action in "upgrade 0.2.0" "deconfigure in-favour other 1.0" "failed-upgrade 0.0.1"; do
    # shellcheck disable=SC2086 # the action's words are the arguments
    run yes "$T/deb/prerm" $action
    expect "deb prerm $action" ""
done

run yes "$T/deb/postrm" remove
expect "deb postrm remove" "systemctl --system daemon-reload"
run yes "$T/deb/postrm" purge
expect "deb postrm purge" "deb-systemd-helper purge natd.service
deb-systemd-helper unmask natd.service
rm -rf /var/lib/natd /etc/natd"
for action in "upgrade 0.2.0" "failed-upgrade 0.0.1" "abort-install" "disappear other 1.0"; do
    # shellcheck disable=SC2086
    run yes "$T/deb/postrm" $action
    expect "deb postrm $action" ""
done

# --- RPM (cpack) --------------------------------------------------------------------------
run yes "$T/rpm/POSTIN" 1
expect "rpm %post (installation, systemd)" "systemctl --no-reload preset natd.service
systemctl daemon-reload"
run yes "$T/rpm/POSTIN" 2
expect "rpm %post (upgrade, systemd)" "systemctl daemon-reload"
run no "$T/rpm/POSTIN" 1
expect "rpm %post (installation, no systemd)" ""
run yes "$T/rpm/PREUN" 0
expect "rpm %preun (erase, systemd)" "systemctl --no-reload disable --now natd.service
natd --teardown"
run no "$T/rpm/PREUN" 0
expect "rpm %preun (erase, no systemd)" "natd --teardown"
FAKE_TEARDOWN_RC=1 run yes "$T/rpm/PREUN" 0
grep -q "natd --teardown' failed" <<<"$STDERR" || fail "rpm %preun: a failed teardown is not reported: $STDERR"
expect "rpm %preun (erase, teardown fails: reported, erase goes on)" "systemctl --no-reload disable --now natd.service
natd --teardown"
run yes "$T/rpm/PREUN" 1
expect "rpm %preun (upgrade)" ""
run yes "$T/rpm/POSTUN" 1
expect "rpm %postun (upgrade, systemd)" "systemctl daemon-reload
systemctl try-restart natd.service"
run yes "$T/rpm/POSTUN" 0
expect "rpm %postun (erase, systemd)" "systemctl daemon-reload"
# --- %config(noreplace), for real: the RPM in a scratch root, no scriptlets ---------
R=$T/rpmroot
mkdir -p "$R/etc/natd"
rpm --root "$R" --initdb
echo "# written by user data" >"$R/etc/natd/natd.conf"
rpm --root "$R" -i --nodeps --noscripts "$RPM" >"$T/rpm-i.log" 2>&1 || { cat "$T/rpm-i.log" >&2; fail "rpm -i into a scratch root failed"; }
[[ $(<"$R/etc/natd/natd.conf") == "# written by user data" && -f $R/etc/natd/natd.conf.rpmnew ]] ||
    fail "rpm -i over a natd.conf written beforehand: $(ls "$R/etc/natd")"
pass "rpm -i keeps a natd.conf written before it (by user data) and puts the packaged one in natd.conf.rpmnew"
rm "$R/etc/natd/natd.conf.rpmnew"
rpm --root "$R" -e --nodeps --noscripts natd >"$T/rpm-e.log" 2>&1 || { cat "$T/rpm-e.log" >&2; fail "rpm -e in the scratch root failed"; }
[[ -f $R/etc/natd/natd.conf.rpmsave && ! -e $R/etc/natd/natd.conf ]] ||
    fail "rpm -e of an edited natd.conf: $(ls "$R/etc/natd")"
[[ ! -e $R/usr/sbin/natd ]] || fail "rpm -e left /usr/sbin/natd"
pass "rpm -e saves the edited natd.conf as natd.conf.rpmsave"
done_ok
