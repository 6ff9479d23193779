#!/usr/bin/env bash
# natd's command line: --help and --version exit 0, usage errors exit 2.
# Needs no root and no network.
# Usage: cli.sh PATH-TO-natd
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

TEST_NAME=integration.cli
NATD=${1:-}
[[ -x $NATD ]] || fail "usage: $0 PATH-TO-natd (got '$NATD')"

# expect STATUS PATTERN ARGS...: natd ARGS exits STATUS and its output (stdout
# and stderr) matches PATTERN (grep -E).
expect() {
    local status=$1 pattern=$2 rc=0 out
    shift 2
    out=$(timeout 10 "$NATD" "$@" </dev/null 2>&1) || rc=$?
    ((rc == status)) || fail "natd $*: exit status $rc, expected $status; output: $out"
    grep -Eq -- "$pattern" <<<"$out" || fail "natd $*: output does not match /$pattern/: $out"
    pass "natd $*: exit $rc, output matches /$pattern/"
}

expect 0 '--once' --help
expect 0 '--check-config' --help
expect 0 '[0-9]+\.[0-9]+\.[0-9]+' --version
expect 2 '.' --no-such-option
expect 2 '.' --root
expect 2 '.' --config
expect 2 '.' unexpected-argument
info "OK: $CHECKS_PASSED checks passed"
