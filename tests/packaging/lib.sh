# shellcheck shell=bash
# Shared helpers of the packaging tests (tests/packaging/*.sh).

PKG_TEST_NAME=${PKG_TEST_NAME:-packaging}
PKG_CHECKS=0

info() { printf '[%s] %s\n' "$PKG_TEST_NAME" "$*"; }
pass() {
    PKG_CHECKS=$((PKG_CHECKS + 1))
    printf '[%s] PASS %s\n' "$PKG_TEST_NAME" "$*"
}
fail() {
    printf '[%s] FAIL %s\n' "$PKG_TEST_NAME" "$*" >&2
    exit 1
}
done_ok() { info "OK: $PKG_CHECKS checks passed"; }

# Skipping is allowed only to a developer who is not root; CI must run it.
need_root() {
    [[ $EUID -eq 0 ]] && return 0
    if [[ ${CI:-} == true ]]; then
        fail "needs root ($1); CI=true: refusing to skip"
    fi
    info "SKIP needs root ($1)"
    exit 77
}

need_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null || fail "'$t' is missing: run tests/install-deps.sh"
    done
}

# The package files built by build-packages.sh into OUT.
find_packages() {
    local out=$1
    DEB=$(find "$out" -maxdepth 1 -name 'natd_*.deb' -print -quit)
    RPM=$(find "$out" -maxdepth 1 -name 'natd-*.rpm' ! -name '*.src.rpm' -print -quit)
    SRC_TGZ=$(find "$out" -maxdepth 1 -name 'natd-*.tar.gz' -print -quit)
    [[ -n $DEB && -n $RPM && -n $SRC_TGZ ]] ||
        fail "no packages in $out (run the test packaging.build first: ctest -R packaging)"
}

# The files every package installs (directories aside), one per line, sorted.
expected_payload() {
    printf '%s\n' \
        /etc/natd/natd.conf \
        /usr/bin/natd-ctl \
        /usr/lib/systemd/system/conntrackd.service.d/natd.conf \
        /usr/lib/systemd/system/keepalived.service.d/natd.conf \
        /usr/lib/systemd/system/natd.service \
        /usr/sbin/natd \
        /usr/share/bash-completion/completions/natd-ctl \
        /usr/share/dbus-1/system.d/io.natd1.conf \
        /usr/share/man/man5/natd.conf.5.gz \
        /usr/share/man/man8/natd-ctl.8.gz \
        /usr/share/man/man8/natd.8.gz
}

# lint_errors TOOL OUTPUT ALLOWED_REGEX: the tool's error lines that are not
# explained in packaging/README.md (ALLOWED_REGEX matches the explained ones).
lint_errors() {
    local kind=$1 output=$2 allowed=$3 errors
    case $kind in
        lintian) errors=$(grep -E '^E: ' <<<"$output" || true) ;;
        rpmlint) errors=$(grep -E ': E: ' <<<"$output" || true) ;;
    esac
    if [[ -n $allowed && -n $errors ]]; then
        errors=$(grep -Ev "$allowed" <<<"$errors" || true)
    fi
    printf '%s' "$errors"
}

# check_rpm_payload RPM EXTRA_FILE...: the RPM's files, modes, owners and
# file flags: exactly expected_payload plus EXTRA_FILEs, binaries 0755, the
# rest 0644, root:root, natd.conf %config(noreplace), no system directories
# (only /etc/natd, natd.conf.d/ and, with %doc files, /usr/share/doc/natd).
check_rpm_payload() {
    local rpm=$1 list files expected f flags mode user group dirs
    shift
    list=$(rpm -qp --qf '[%{FILENAMES}|%{FILEFLAGS:fflags}|%{FILEMODES:perms}|%{FILEUSERNAME}|%{FILEGROUPNAME}\n]' "$rpm")
    list=$(grep -v '^/usr/lib/.build-id' <<<"$list")
    files=$(awk -F'|' '$3 !~ /^d/ { print $1 }' <<<"$list" | sort)
    expected=$( (expected_payload && (($# == 0)) || printf '%s\n' "$@") | sort)
    [[ $files == "$expected" ]] ||
        fail "$(basename "$rpm"): files differ from the expected layout:"$'\n'"$(diff <(echo "$expected") <(echo "$files") || true)"
    while IFS='|' read -r f flags mode user group; do
        [[ $user:$group == root:root ]] || fail "$(basename "$rpm"): $f is owned by $user:$group"
        case $f in
            /usr/sbin/natd | /usr/bin/natd-ctl) [[ $mode == -rwxr-xr-x ]] || fail "$f: mode $mode" ;;
            *) [[ $mode == -rw-r--r-- || $mode == drwxr-xr-x ]] || fail "$(basename "$rpm"): $f: mode $mode" ;;
        esac
        case $f in
            /etc/natd/natd.conf) [[ $flags == *c* && $flags == *n* ]] || fail "natd.conf flags '$flags', not %config(noreplace)" ;;
            *) [[ $flags != *c* ]] || fail "$f is marked %config" ;;
        esac
    done <<<"$list"
    dirs=$(awk -F'|' '$3 ~ /^d/ { print $1 }' <<<"$list" | sort | tr '\n' ' ')
    # natd's own drop-in directories for the distribution's keepalived and
    # conntrackd units ([HighAvailability]) are natd's to own.
    expected="/etc/natd /etc/natd/natd.conf.d /usr/lib/systemd/system/conntrackd.service.d /usr/lib/systemd/system/keepalived.service.d "
    [[ " $* " == *" /usr/share/doc/natd/"* ]] && expected+="/usr/share/doc/natd "
    [[ $dirs == "$expected" ]] ||
        fail "$(basename "$rpm") owns the directories '$dirs', not '$expected'"
    [[ $(rpm -qp --configfiles "$rpm") == /etc/natd/natd.conf ]] ||
        fail "rpm --configfiles: $(rpm -qp --configfiles "$rpm")"
}

# check_rpm_requires RPM: shared libraries only from AL2023's core repository
# (glibc, libstdc++, libgcc, libmnl, libnftnl, systemd-libs, json-c, libmicrohttpd,
# libcurl: AL2023 installs libcurl-minimal by default; expat).
check_rpm_requires() {
    local rpm=$1 req bad
    req=$(rpm -qp --requires "$rpm")
    bad=$(grep -E '\.so' <<<"$req" |
        grep -Ev '^(libc|libm|libstdc\+\+|libgcc_s|libmnl|libnftnl|libsystemd|libjson-c|libmicrohttpd|libcurl|libexpat|ld-linux-[a-z0-9_-]+)\.so' || true)
    [[ -z $bad ]] || fail "$(basename "$rpm") requires libraries AL2023's core repository lacks:"$'\n'"$bad"
}
