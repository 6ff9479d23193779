#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2001 # '$1' is scriptlet text; sed indents output
# The RPM built by cpack, without installing it: file list, modes, owners,
# %config(noreplace), scriptlets, requirements, and rpmlint (no errors but
# the ones explained in packaging/README.md).
# Usage: rpm.sh OUT_DIR SOURCE_DIR HEADER_ONLY(ON|OFF)
set -euo pipefail
PKG_TEST_NAME=packaging.rpm
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"

out=${1:?usage: $0 OUT_DIR SOURCE_DIR HEADER_ONLY}
src=${2:?usage: $0 OUT_DIR SOURCE_DIR HEADER_ONLY}
header_only=${3:-OFF}
need_tools rpm rpmlint
find_packages "$out"

check_rpm_payload "$RPM"
pass "$(basename "$RPM"): the expected files, binaries 0755, the rest 0644, root:root, natd.conf %config(noreplace), owns only /etc/natd and natd.conf.d/"

scripts=$(rpm -qp --scripts "$RPM")
preun=$(rpm -qp --qf '%{PREUN}' "$RPM")
[[ $(rpm -qp --qf '%{PREIN}' "$RPM") == '(none)' ]] || fail "the RPM has a %pre scriptlet"
grep -q 'if \[ "$1" -eq 0 \]; then' <<<"$preun" || fail "%preun does not test for erase (\$1 = 0)"
grep -q 'natd --teardown' <<<"$preun" || fail "%preun does not run natd --teardown"
grep -q 'try-restart natd.service' <<<"$(rpm -qp --qf '%{POSTUN}' "$RPM")" ||
    fail "%postun does not restart natd on upgrade"
if grep -Eq 'systemctl[^|]* (start|enable --now)' <<<"$scripts"; then
    fail "a scriptlet starts natd"
fi
for tag in POSTIN PREUN POSTUN; do
    sh -n <(rpm -qp --qf "%{$tag}" "$RPM") || fail "%$tag: syntax error"
done
pass "scriptlets: %post presets (never starts), %preun tears down on erase only, %postun restarts on upgrade"

if [[ $header_only == ON ]]; then
    check_rpm_requires "$RPM"
    pass "requirements: only libraries from AL2023's core repository (spdlog and fmt compiled in)"
else
    info "built without NATD_SPDLOG_HEADER_ONLY: requirements not checked here (packaging.spec checks natd.spec's)"
fi

# Explained in packaging/README.md: no-signature (packages are signed when
# released, not when built).
lint=$(rpmlint -c "$src/packaging/rpmlint.toml" "$RPM" 2>&1 | grep -E ': [EW]: ' || true)
info "rpmlint says:"
sed 's/^/    /' <<<"${lint:-(nothing)}"
errors=$(lint_errors rpmlint "$lint" ': E: no-signature$')
[[ -z $errors ]] || fail "rpmlint errors not explained in packaging/README.md:"$'\n'"$errors"
pass "rpmlint: no errors but no-signature ($(grep -c ': W: ' <<<"$lint" || true) warnings)"
done_ok
