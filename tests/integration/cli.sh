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
expect 0 '--dump-config' --help

# --dump-config: the effective configuration, each value with its origin, as
# a natd.conf that natd reads back as the same configuration.
CLI_DIR=$(mktemp -d /tmp/natd-cli.XXXXXX)
trap 'rm -rf "$CLI_DIR"' EXIT
mkdir -p "$CLI_DIR/etc/natd/natd.conf.d"
printf '[Interfaces]\nPublic=ens5\n[Routes]\nSubnets=10.0.1.0/24 10.0.2.0/24\n' \
    >"$CLI_DIR/etc/natd/natd.conf"
printf '# user data\n[Routes]\nSubnets=10.0.3.0/24\n' >"$CLI_DIR/etc/natd/natd.conf.d/10-vpc.conf"
rc=0
dump=$(timeout 10 "$NATD" --root "$CLI_DIR" --dump-config </dev/null 2>&1) || rc=$?
((rc == 0)) || fail "natd --dump-config: exit status $rc, expected 0; output: $dump"
main=$CLI_DIR/etc/natd/natd.conf
for expected in "# $main:2"$'\n'"Public=ens5" \
    "# default"$'\n'"Private=device-number-1" \
    "# default"$'\n'"WaitTimeoutSec=infinity" \
    "# $main:4"$'\n'"Subnets=10.0.1.0/24" \
    "# $main:4"$'\n'"Subnets=10.0.2.0/24" \
    "# $main.d/10-vpc.conf:3"$'\n'"Subnets=10.0.3.0/24" \
    "# default"$'\n'"Gateway=" \
    "# default"$'\n'"SourceCIDRs=" \
    "# default"$'\n'"ForwardPolicy=drop"; do
    [[ $dump == *"$expected"* ]] || fail "natd --dump-config does not show '${expected//$'\n'/ \\n }': $dump"
done
[[ $(grep '^\[' <<<"$dump" | tr '\n' ' ') == "[Interfaces] [Routes] [NAT] [Conntrack] [Metrics] [Discovery] [HighAvailability] [Health] " ]] ||
    fail "natd --dump-config: expected the sections [Interfaces], [Routes], [NAT], [Conntrack], [Metrics], [Discovery], [HighAvailability] and [Health] once each: $dump"
pass "natd --dump-config: every key with its value and origin, grouped by section"
mkdir -p "$CLI_DIR/again"
printf '%s\n' "$dump" >"$CLI_DIR/again/natd.conf"
rc=0
again=$(timeout 10 "$NATD" --root "$CLI_DIR/again" --config /natd.conf --dump-config </dev/null 2>&1) || rc=$?
((rc == 0)) || fail "natd rejects its own --dump-config output (status $rc): $again"
strip() { grep -v '^#' <<<"$1"; }
[[ $(strip "$again") == "$(strip "$dump")" ]] ||
    fail "the --dump-config output read back is another configuration: $(diff <(strip "$dump") <(strip "$again"))"
pass "natd --dump-config output is a valid natd.conf that reads back as the same configuration"
printf '[Routes]\nGateway=x\n' >"$CLI_DIR/etc/natd/natd.conf.d/20-broken.conf"
rc=0
out=$(timeout 10 "$NATD" --root "$CLI_DIR" --dump-config </dev/null 2>"$CLI_DIR/err") || rc=$?
((rc == 2)) || fail "natd --dump-config of an invalid configuration: exit status $rc, expected 2"
[[ -z $out ]] || fail "natd --dump-config of an invalid configuration printed a configuration: $out"
grep -qF "$main.d/20-broken.conf:2: invalid address 'x' in Gateway=" "$CLI_DIR/err" ||
    fail "natd --dump-config of an invalid configuration does not say FILE:LINE: $(<"$CLI_DIR/err")"
pass "natd --dump-config of an invalid configuration: exit 2, FILE:LINE on stderr, nothing on stdout"
info "OK: $CHECKS_PASSED checks passed"
