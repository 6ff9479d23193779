#!/usr/bin/env bash
# Runs every test: installs the dependencies, then
#   build/           Release (warnings are errors at -O3 too, where GCC warns
#                    more than at -O2): unit tests, lint, packaging, deploy,
#                    the benchmarks' quick mode and regression guard, the
#                    fuzzers' corpus replay, the hostile configurations;
#   build-sanitize/  ASan (with LSan) and UBSan, -O1 -g: the unit tests again,
#                    every integration test with natd itself sanitized
#                    (tests/integration/lib.sh fails a test on any report),
#                    and the soak's quick mode;
#   build-fuzz/      clang with libFuzzer: every fuzz target for 60 s.
# Independent tests run in parallel. Exits non-zero when any test failed.
# Needs root (as another user it re-runs itself with sudo).
set -euo pipefail

if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "run-all: run me as root (apt-get, network namespaces)" >&2; exit 1; }
    echo "run-all: re-running as root with sudo"
    exec sudo env CI="${CI:-}" bash "$0" "$@"
fi

cd "$(dirname "$0")/.."

bash tests/install-deps.sh

jobs=$(nproc)
stages=()
stage_start=$SECONDS
stage_done() {
    stages+=("$(printf '%-58s %4d s' "$1" $((SECONDS - stage_start)))")
    stage_start=$SECONDS
}

cmake -S . -B build -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}"
cmake --build build --parallel "$jobs"
stage_done "build/ (${CMAKE_BUILD_TYPE:-Release})"
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNATD_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g"
cmake --build build-sanitize --parallel "$jobs"
stage_done "build-sanitize/ (ASan+UBSan)"

status=0
# Most tests wait on the kernel, networkd or timers: twice as many as cores
# at once (tests that must not overlap say so: RUN_SERIAL, RESOURCE_LOCK).
# The integration tests run once, sanitized; unit-file also runs with the
# plain binary, whose system calls its seccomp check is about.
# (unit-file first: each ctest run rewrites the log the TIMING lines come from.)
ctest --test-dir build --output-on-failure -R '^integration\.unit-file$' || status=$?
ctest --test-dir build --output-on-failure --parallel $((2 * jobs)) \
    -LE '^(integration|soak)$' || status=$?
stage_done "ctest build/ (all but the integration tests; unit-file)"
ctest --test-dir build-sanitize --output-on-failure --parallel $((2 * jobs)) \
    -L '^(unit|integration|soak)$' || status=$?
stage_done "ctest build-sanitize/ (unit, integration, soak)"
bash fuzz/run.sh --seconds 60 --jobs "$jobs" || status=$?
stage_done "fuzz/run.sh (every target 60 s)"

# What the tests measured (their TIMING lines; ctest keeps the output of
# passing tests only in its log).
echo "run-all: figures the tests measured:"
for log in build/Testing/Temporary/LastTest.log build-sanitize/Testing/Temporary/LastTest.log; do
    if [[ -f $log ]]; then
        grep -h ' TIMING ' "$log" | sed "s|^|  ${log%%/*}: |" || true
    fi
done
echo "run-all: stages"
printf '  %s\n' "${stages[@]}"
exit "$status"
