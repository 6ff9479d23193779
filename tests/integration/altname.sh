#!/usr/bin/env bash
# natd in daemon mode with the default configuration finds the private ENI by
# its altname device-number-1.0 (amazon-ec2-net-utils >= 2.5), which appears
# after natd started; then checks 1-4 (see lib.sh).
# Usage: altname.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

lib_init integration.altname "$@"
run_daemon_scenario card
