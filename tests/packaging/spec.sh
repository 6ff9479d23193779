#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2001 # '$1' is scriptlet text; sed indents output
# packaging/natd.spec, the Amazon Linux 2023 build: rpmlint on the spec,
# versions in step with CMakeLists.txt, then a real rpmbuild -bb from the
# source tarball (with stand-ins for AL2023's systemd and cmake RPM macros,
# tests/packaging/rpm-macros.standin), and checks of the RPM it makes: file
# list, %config(noreplace), scriptlets, requirements (spdlog and fmt compiled
# in), rpmlint.
# Usage: spec.sh OUT_DIR SOURCE_DIR PROJECT_VERSION
set -euo pipefail
PKG_TEST_NAME=packaging.spec
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"

out=${1:?usage: $0 OUT_DIR SOURCE_DIR PROJECT_VERSION}
src=${2:?usage: $0 OUT_DIR SOURCE_DIR PROJECT_VERSION}
version=${3:?usage: $0 OUT_DIR SOURCE_DIR PROJECT_VERSION}
spec=$src/packaging/natd.spec
need_tools rpm rpmbuild rpmlint readelf
find_packages "$out"
T=$(mktemp -d /tmp/natd-pkg-spec.XXXXXX)
trap 'rm -rf "$T"' EXIT

# --- the spec itself ------------------------------------------------------------
spec_version=$(rpmspec -q --qf '%{VERSION}\n' --srpm "$spec" 2>/dev/null || awk '/^Version:/ { print $2 }' "$spec")
[[ $spec_version == "$version" ]] || fail "natd.spec has Version: $spec_version, CMakeLists.txt $version"
for page in "$src"/doc/man/*.[0-9]; do
    grep -q "^\.TH .* \"natd $version\"" "$page" || fail "$(basename "$page"): .TH does not say natd $version"
done
[[ $SRC_TGZ == */natd-$version.tar.gz ]] || fail "source tarball $SRC_TGZ is not natd-$version.tar.gz"
pass "natd.spec, the man pages and the source tarball are at version $version"

# Explained in packaging/README.md: none.
lint=$(rpmlint -c "$src/packaging/rpmlint.toml" "$spec" 2>&1 | grep -E ': [EW]: ' || true)
info "rpmlint natd.spec says:"
sed 's/^/    /' <<<"${lint:-(nothing)}"
errors=$(lint_errors rpmlint "$lint" "")
[[ -z $errors ]] || fail "rpmlint errors in natd.spec:"$'\n'"$errors"
pass "rpmlint natd.spec: no errors"

# --- rpmbuild -bb ------------------------------------------------------------------
packager=$(rpm -qp --qf '%{PACKAGER}' "$RPM")
info "rpmbuild -bb natd.spec (builds natd again, as on AL2023: header-only spdlog, no tests) ..."
if ! rpmbuild -bb --nodeps \
    --load "$src/tests/packaging/rpm-macros.standin" \
    --define "_topdir $T/rpmbuild" \
    --define "_sourcedir $out" \
    --define "packager $packager" \
    "$spec" >"$T/rpmbuild.log" 2>&1; then
    tail -n 60 "$T/rpmbuild.log" >&2
    fail "rpmbuild -bb natd.spec failed"
fi
built=$(find "$T/rpmbuild/RPMS" -name "natd-$version-*.rpm" -print -quit)
[[ -n $built ]] || fail "rpmbuild made no natd-$version-*.rpm"
grep -q 'natd: spdlog and fmt header-only' "$T/rpmbuild.log" ||
    fail "the spec's build did not use NATD_SPDLOG_HEADER_ONLY (is cmake/natd-spdlog.cmake included by CMakeLists.txt?)"
pass "rpmbuild made $(basename "$built"), configured with spdlog and fmt header-only"

# rpm on AL2023 (as here) adds /usr/lib/.build-id/ links to the binaries: a
# copy without them is checked.
if rpm -qlp "$built" | grep '^/usr/lib/.build-id/' >/dev/null; then info "(the RPM has /usr/lib/.build-id links, as on AL2023)"; fi
check_rpm_payload "$built" /usr/share/doc/natd/README.md /usr/share/doc/natd/aws-setup.md
pass "the spec's RPM: the expected files plus README.md and aws-setup.md as %doc; modes, root:root, natd.conf %config(noreplace)"
cpack_files=$(rpm -qlp "$RPM" | sort)
spec_files=$(rpm -qlp "$built" | grep -v -e '^/usr/share/doc/natd' -e '^/usr/lib/.build-id' | sort)
[[ $cpack_files == "$spec_files" ]] ||
    fail "natd.spec and cpack package different files:"$'\n'"$(diff <(echo "$cpack_files") <(echo "$spec_files") || true)"
pass "natd.spec and cpack's RPM install the same files"

check_rpm_requires "$built"
rpm2cpio "$built" | (mkdir -p "$T/root" && cd "$T/root" && cpio -idm --quiet)
for bin in usr/sbin/natd usr/bin/natd-ctl; do
    needed=$(readelf -d "$T/root/$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    grep -Eq 'libspdlog|libfmt' <<<"$needed" && fail "/$bin needs $needed"
    info "/$bin needs: $needed"
done
pass "the spec's binaries need neither libspdlog nor libfmt; the RPM requires only AL2023 core libraries"

post=$(rpm -qp --qf '%{POSTIN}' "$built")
preun=$(rpm -qp --qf '%{PREUN}' "$built")
postun=$(rpm -qp --qf '%{POSTUN}' "$built")
grep -q 'natd-test-macro systemd_post "$1" natd.service' <<<"$post" || fail "%post does not use %systemd_post natd.service"
grep -q 'natd-test-macro systemd_postun_with_restart "$1" natd.service' <<<"$postun" ||
    fail "%postun does not use %systemd_postun_with_restart natd.service"
line_macro=$(grep -n -m1 'natd-test-macro systemd_preun "$1" natd.service' <<<"$preun" | cut -d: -f1)
line_teardown=$(grep -n -m1 'natd --teardown' <<<"$preun" | cut -d: -f1)
[[ -n $line_macro && -n $line_teardown ]] || fail "%preun lacks %systemd_preun natd.service or natd --teardown:"$'\n'"$preun"
((line_macro < line_teardown)) || fail "%preun tears down before %systemd_preun stops natd"
grep -q 'if \[ $1 -eq 0 \]; then' <<<"$preun" || fail "%preun does not limit the teardown to erase"
for s in "$post" "$preun" "$postun"; do sh -n <<<"$s" || fail "scriptlet syntax error:"$'\n'"$s"; done
[[ $(rpm -qp --requires "$built" | grep -c '^systemd$') -ge 1 ]] || fail "%{?systemd_requires} added no Requires: systemd"
pass "scriptlets: %systemd_post, %systemd_preun then natd --teardown on erase only, %systemd_postun_with_restart"

# Explained in packaging/README.md: no-signature.
lint=$(rpmlint -c "$src/packaging/rpmlint.toml" "$built" 2>&1 | grep -E ': [EW]: ' || true)
info "rpmlint $(basename "$built") says:"
sed 's/^/    /' <<<"${lint:-(nothing)}"
errors=$(lint_errors rpmlint "$lint" ': E: no-signature$')
[[ -z $errors ]] || fail "rpmlint errors not explained in packaging/README.md:"$'\n'"$errors"
pass "rpmlint on the spec's RPM: no errors but no-signature"
done_ok
