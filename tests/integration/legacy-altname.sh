#!/usr/bin/env bash
# natd in daemon mode with the default configuration finds ENIs named the
# legacy way (altnames device-number-0 / device-number-1, amazon-ec2-net-utils
# < 2.5); the private one appears after natd started; then checks 1-4.
# Usage: legacy-altname.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

lib_init integration.legacy-altname "$@"
run_daemon_scenario legacy
