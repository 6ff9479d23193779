#!/usr/bin/env bash
# Builds the DEB, the RPM and the source tarball (natd.spec's Source0) with
# cpack from the build tree, into OUT. Fixture of the other packaging tests.
# Usage: build-packages.sh BUILD_DIR OUT_DIR
set -euo pipefail
PKG_TEST_NAME=packaging.build
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"

build=${1:?usage: $0 BUILD_DIR OUT_DIR}
out=${2:?usage: $0 BUILD_DIR OUT_DIR}
need_tools cpack dpkg-deb dpkg-shlibdeps rpmbuild gzip

rm -rf "$out"
mkdir -p "$out"
for generator in DEB RPM; do
    if ! cpack --config "$build/CPackConfig.cmake" -G "$generator" -B "$out" >"$out/cpack-$generator.log" 2>&1; then
        cat "$out/cpack-$generator.log" >&2
        fail "cpack -G $generator failed"
    fi
done
if ! cpack --config "$build/CPackSourceConfig.cmake" -G TGZ -B "$out" >"$out/cpack-source.log" 2>&1; then
    cat "$out/cpack-source.log" >&2
    fail "cpack --config CPackSourceConfig.cmake failed"
fi
rm -rf "$out/_CPack_Packages"

find_packages "$out"
pass "cpack built $(basename "$DEB"), $(basename "$RPM") and $(basename "$SRC_TGZ")"
top=$(tar -tzf "$SRC_TGZ" | sed -n 1p)
[[ $top == natd-*/* ]] || fail "the source tarball's top directory is '$top', not natd-VERSION/"
for f in CMakeLists.txt packaging/natd.spec packaging/CMakeLists.txt cmake/natd-spdlog.cmake \
    systemd/natd.service doc/man/natd.8 completions/natd-ctl README.md doc/aws-setup.md; do
    tar -tzf "$SRC_TGZ" "${top%%/*}/$f" >/dev/null 2>&1 || fail "the source tarball lacks $f"
done
bad=$(tar -tzf "$SRC_TGZ" | grep -E '^[^/]+/(\.git|build[^/]*)/' || true)
[[ -z $bad ]] || fail "the source tarball contains .git or build directories: $(head -n3 <<<"$bad")"
pass "the source tarball unpacks to ${top%%/*}/ with the sources natd.spec builds from, no .git or build trees"
done_ok
