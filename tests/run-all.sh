#!/usr/bin/env bash
# Runs every test: installs the dependencies, configures and builds into
# build/, then runs ctest (unit + integration tests). Exits with ctest's
# status. Needs root (as another user it re-runs itself with sudo).
set -euo pipefail

if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "run-all: run me as root (apt-get, network namespaces)" >&2; exit 1; }
    echo "run-all: re-running as root with sudo"
    exec sudo env CI="${CI:-}" bash "$0" "$@"
fi

cd "$(dirname "$0")/.."

bash tests/install-deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}"
cmake --build build --parallel "$(nproc)"

status=0
ctest --test-dir build --output-on-failure || status=$?
exit "$status"
