#!/usr/bin/env bash
# Runs every test: installs the dependencies, configures and builds into
# build/ (RelWithDebInfo unless CMAKE_BUILD_TYPE says otherwise) and into
# build-release/ (Release: GCC warns at -O3 where it does not at -O2, and
# warnings are errors), runs the unit tests of the Release tree, then ctest
# in build/ (unit, lint, integration, packaging), independent tests in
# parallel. Exits non-zero when any test failed. Needs root (as another user
# it re-runs itself with sudo).
set -euo pipefail

if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "run-all: run me as root (apt-get, network namespaces)" >&2; exit 1; }
    echo "run-all: re-running as root with sudo"
    exec sudo env CI="${CI:-}" bash "$0" "$@"
fi

cd "$(dirname "$0")/.."

bash tests/install-deps.sh

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}"
cmake --build build --parallel "$jobs"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release
cmake --build build-release --parallel "$jobs"

status=0
# The integration and packaging tests run once, from build/.
ctest --test-dir build-release --output-on-failure -R '^unit$' || status=$?
# Most tests wait on the kernel, networkd or timers: twice as many as cores
# at once (tests that must not overlap say so: RUN_SERIAL, RESOURCE_LOCK).
ctest --test-dir build --output-on-failure --parallel $((2 * jobs)) || status=$?
# What the tests measured (their TIMING lines; ctest keeps the output of
# passing tests only in its log).
log=build/Testing/Temporary/LastTest.log
if [[ -f $log ]]; then
    echo "run-all: figures the tests measured:"
    grep -h ' TIMING ' "$log" | sed 's/^/  /' || true
fi
exit "$status"
