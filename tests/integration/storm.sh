#!/usr/bin/env bash
# A netlink storm does not blind natd. With natd ready in the simulated VPC
# (no networkd, natd on a private system bus), natd is stopped (SIGSTOP, as
# a starved process would be) while $BRIDGES bridges are created in the NAT
# instance at once (ip -batch): far more link events than natd's socket
# buffer holds, so the kernel drops some (ENOBUFS). natd is continued and
# the bridges are deleted again at once meanwhile, so natd re-reads links
# and addresses while they change under it (interrupted dumps). Then:
#   - natd-ctl status says ready and names both ENIs with their addresses,
#     including one added to the public ENI while natd's queue was full
#     (the interface table was re-read, never left empty or half-read);
#   - each kind of drift — ruleset flushed, table deleted, a return route
#     deleted, ip_forward=0 — is still repaired;
#   - the private hosts reach the internet through the NAT.
# Prints how long natd took to be ready again after the storm (polled).
# Usage: storm.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

BRIDGES=${BRIDGES:-600}
PUB_IP2=203.0.113.11

drift_init integration.storm "$@"
drift_vpc
drift_ready
check_egress " (before the storm)"

# enis_known: natd-ctl status names both ENIs with their addresses and says
# ready (for wait_until, which runs it in a subshell).
enis_known() {
    ctl_status ""
    $SJ expect state='"ready"' public.name="\"$PUB_DEV\"" private.name="\"$PRIV_DEV\"" \
        public.addresses="[\"$PUB_IP/24\", \"$PUB_IP2/24\"]" private.addresses="[\"$PRIV_IP/24\"]" <<<"$CTL_OUT"
}

storm() {
    local verb=$1 i
    for ((i = 0; i < BRIDGES; i++)); do
        if [[ $verb == add ]]; then
            echo "link add storm$i type bridge"
        else
            echo "link del storm$i"
        fi
    done >"$T/storm-$verb.batch"
    ip -n "$NS_NAT" -batch "$T/storm-$verb.batch"
}

t0='' t1='' del_pid=''
kill -STOP "$NATD_PID"
storm add
# Announced while natd's queue is full, so this event is dropped: natd can
# only learn of the address by re-reading links and addresses.
ip -n "$NS_NAT" addr add "$PUB_IP2/24" dev "$PUB_DEV"
# The deletions run while natd re-reads the links, so its dumps are
# interrupted by changes (NLM_F_DUMP_INTR) and must be retried cleanly.
storm del &
del_pid=$!
kill -CONT "$NATD_PID"
wait "$del_pid" || fail "deleting the bridges failed"
now_ms t0
info "created $BRIDGES bridges while natd was stopped, deleted them while it caught up"
wait_until 30 enis_known || fail "natd did not come back to ready with both ENIs after the storm: $WAIT_OUT"$'\n'"$(tail -n 20 "$T/natd.log")"
now_ms t1
timing "end of the storm -> ready with both ENIs (polled)" $((t1 - t0))
grep -q 'Netlink event queue overran' "$T/natd.log" ||
    fail "the storm did not overrun natd's link socket: the test proves nothing (raise BRIDGES)"
pass "the storm overran natd's event socket; natd re-read the interfaces and names both ENIs"

# kernel_as_planned: natd's table on both ENIs, both routes and ip_forward.
kernel_as_planned() {
    table_on "$PRIV_DEV" >/dev/null || { echo "table ip natd not as planned"; return 1; }
    natd_routes_on "$PRIV_DEV" >/dev/null || { echo "return routes missing"; return 1; }
    [[ $(ip netns exec "$NS_NAT" sysctl -n net.ipv4.ip_forward) == 1 ]] || { echo "ip_forward is 0"; return 1; }
}

for drift in "nft flush ruleset" "nft delete table ip natd" \
    "ip route del 10.0.2.0/24" "sysctl -q -w net.ipv4.ip_forward=0"; do
    # shellcheck disable=SC2086 # the drift command's words
    ip netns exec "$NS_NAT" $drift
    wait_until 5 kernel_as_planned || fail "after the storm, natd did not repair '$drift' within 5s: $WAIT_OUT"
    pass "after the storm: '$drift' repaired"
done
check_egress " (after the storm)"
wait_until 5 enis_known || fail "not ready after the repairs: $WAIT_OUT"
ctl_status 0
pass "ready: $(sj_get status)"
