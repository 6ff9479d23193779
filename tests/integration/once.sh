#!/usr/bin/env bash
# natd --once, started before the private ENI exists, waits for it (and its
# altname device-number-1.0), applies, verifies and exits 0; then checks 1-3.
# Usage: once.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

lib_init integration.once "$@"
vpc_create card
write_config etc/natd/natd.conf <<EOC
[Interfaces]
WaitTimeoutSec=30s

[Routes]
Subnets=$SUBNETS
EOC

natd_start --once
natd_settle "the private ENI"
eni_plug
natd_alive || fail "natd --once exited before the private ENI had its altname"
eni_name card
wait_exit "$NATD_PID" 40 || fail "natd --once still running 40s after the private ENI appeared"
exited_ms=0
now_ms exited_ms
NATD_PID=
((EXIT_RC == 0)) || fail "natd --once exited with status $EXIT_RC, expected 0"
pass "natd --once waited for the private ENI, then exited 0"
timing "altname added -> natd --once exited" $((exited_ms - ENI_ALTNAME_MS))

check_egress
check_inbound_blocked
check_nat_state
