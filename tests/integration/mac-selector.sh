#!/usr/bin/env bash
# natd in daemon mode with Private=<MAC of ens6>: the private ENI gets no
# altname at all, so only the MAC can find it; natd must also wait for its
# IPv4 address. Then checks 1-4.
# Usage: mac-selector.sh PATH-TO-natd   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

lib_init integration.mac-selector "$@"
run_daemon_scenario none "$PRIV_MAC"
