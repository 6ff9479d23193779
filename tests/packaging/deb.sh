#!/usr/bin/env bash
# shellcheck disable=SC2001 # sed indents output
# The DEB without installing it: control fields, file list, owners and modes,
# conffiles, maintainer scripts, man pages, and lintian (no errors).
# Usage: deb.sh OUT_DIR SOURCE_DIR
set -euo pipefail
PKG_TEST_NAME=packaging.deb
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"

out=${1:?usage: $0 OUT_DIR SOURCE_DIR}
src=${2:?usage: $0 OUT_DIR SOURCE_DIR}
need_tools dpkg-deb lintian man gzip
find_packages "$out"
T=$(mktemp -d /tmp/natd-pkg-deb.XXXXXX)
trap 'rm -rf "$T"' EXIT

# --- control ------------------------------------------------------------------
field() { dpkg-deb -f "$DEB" "$1"; }
[[ $(field Package) == natd ]] || fail "Package: $(field Package)"
[[ $(field Section) == net && $(field Priority) == optional ]] ||
    fail "Section/Priority: $(field Section)/$(field Priority)"
depends=$(field Depends)
for lib in libc6 libmnl0 libnftnl11 libsystemd0 libjson-c5 libmicrohttpd12 libcurl4; do
    grep -qw "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
pass "control: Package natd, Section net, Depends (from dpkg-shlibdeps) $depends"

# --- files, owners, modes --------------------------------------------------------
dpkg-deb -c "$DEB" >"$T/contents"
# "-rwxr-xr-x root/root 614536 2026-11-26 04:47 ./usr/sbin/natd" -> "-rwxr-xr-x root/root /usr/sbin/natd"
awk '{ p = $6; sub(/^\./, "", p); print $1, $2, p }' "$T/contents" >"$T/list"
files=$(awk '$1 !~ /^d/ { print $3 }' "$T/list" | sort)
expected=$( (expected_payload && printf '%s\n' /usr/share/doc/natd/changelog.gz /usr/share/doc/natd/copyright) | sort)
[[ $files == "$expected" ]] ||
    fail "the DEB's files differ from the expected layout:"$'\n'"$(diff <(echo "$expected") <(echo "$files") || true)"
pass "the DEB holds exactly: $(tr '\n' ' ' <<<"$files")"

mode_of() { awk -v p="$1" '$3 == p { print $1, $2 }' "$T/list"; }
for f in /usr/sbin/natd /usr/bin/natd-ctl; do
    [[ $(mode_of "$f") == "-rwxr-xr-x root/root" ]] || fail "$f: $(mode_of "$f"), not -rwxr-xr-x root/root"
done
while read -r f; do
    [[ $(mode_of "$f") == "-rw-r--r-- root/root" ]] || fail "$f: $(mode_of "$f"), not -rw-r--r-- root/root"
done < <(grep -v -e '^/usr/sbin/natd$' -e '^/usr/bin/natd-ctl$' <<<"$files")
bad_dirs=$(awk '$1 ~ /^d/ && ($1 != "drwxr-xr-x" || $2 != "root/root")' "$T/list")
[[ -z $bad_dirs ]] || fail "directories not drwxr-xr-x root/root: $bad_dirs"
pass "binaries 0755, every other file 0644, directories 0755, all root/root"

# --- conffiles and maintainer scripts ----------------------------------------------
dpkg-deb --ctrl-tarfile "$DEB" | tar -x -C "$T"
[[ $(<"$T/conffiles") == /etc/natd/natd.conf ]] || fail "conffiles: $(<"$T/conffiles")"
pass "conffiles lists /etc/natd/natd.conf only"
for s in postinst prerm postrm; do
    [[ -x $T/$s ]] || fail "maintainer script $s missing or not executable"
    sh -n "$T/$s" || fail "$s: syntax error"
    [[ $(head -n1 "$T/$s") == '#!/bin/sh' ]] || fail "$s does not start with #!/bin/sh"
    grep -q '^set -e$' "$T/$s" || fail "$s lacks set -e"
done
# What each script does per action is run and checked by scriptlets.sh;
# here only that the pieces are where they belong.
grep -q 'natd --teardown' <<<"$(sed -n '/^remove)/,/;;/p' "$T/prerm")" ||
    fail "prerm does not run natd --teardown on remove"
grep -q 'rm -rf /var/lib/natd /etc/natd' <<<"$(sed -n '/^purge)/,/;;/p' "$T/postrm")" ||
    fail "postrm purge does not remove /var/lib/natd and /etc/natd"
grep -q 'deb-systemd-helper enable natd.service' "$T/postinst" || fail "postinst does not enable natd.service"
pass "maintainer scripts: /bin/sh, set -e; postinst enables, prerm remove tears down, postrm purge removes /etc/natd and /var/lib/natd"

# --- man pages -----------------------------------------------------------------------
dpkg-deb -x "$DEB" "$T/root"
for page in man8/natd.8 man8/natd-ctl.8 man5/natd.conf.5; do
    gz=$T/root/usr/share/man/$page.gz
    cmp -s <(gzip -dc "$gz") "$src/doc/man/${page#*/}" || fail "$page.gz is not doc/man/${page#*/}"
    warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$gz" 2>&1 >/dev/null)
    [[ -z $warnings ]] || fail "$page: groff warnings: $warnings"
done
pass "man pages natd(8), natd-ctl(8), natd.conf(5): the sources in doc/man, gzip -9n, no groff warnings"
cmp -s "$T/root/etc/natd/natd.conf" "$src/packaging/natd.conf" || fail "/etc/natd/natd.conf is not packaging/natd.conf"
cmp -s "$T/root/usr/lib/systemd/system/natd.service" "$src/systemd/natd.service" ||
    fail "natd.service is not systemd/natd.service"
pass "natd.conf and natd.service are the repository's files"

# --- lintian ---------------------------------------------------------------------------
# Errors explained in packaging/README.md: none.
lint=$(lintian --pedantic --display-info "$DEB" 2>&1 | grep -E '^[EWIPXO]: ' || true)
info "lintian says:"
if [[ -n $lint ]]; then sed 's/^/    /' <<<"$lint"; else echo "    (nothing)"; fi
errors=$(lint_errors lintian "$lint" "")
[[ -z $errors ]] || fail "lintian errors:"$'\n'"$errors"
warnings=$(grep -c '^W: ' <<<"$lint" || true)
pass "lintian: no errors ($warnings warnings)"
done_ok
