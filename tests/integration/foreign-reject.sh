#!/usr/bin/env bash
# natd reports a foreign rule that blocks NAT traffic and leaves it alone.
# With natd ready in the simulated VPC (no networkd, natd on a private system
# bus), another program adds what iptables-services' default FORWARD chain
# amounts to:
#   nft add table ip filter
#   nft add chain ip filter FORWARD '{ type filter hook forward priority 0; policy accept; }'
#   nft add rule ip filter FORWARD counter reject
# Then:
#   - the private hosts cannot reach the internet (the rule really blocks);
#   - natd-ctl status --json exits 1, state "degraded", warnings[] names
#     table ip filter chain FORWARD and the reject, the status text too, and
#     natd's log has the warning;
#   - natd did not edit table ip filter: the table (rules, handles, chain
#     policy) is as the other program left it, and no nftables transaction
#     of natd's process touched anything but table ip natd; natd's own table
#     stays verified and no repair is counted.
# Also: a conditional drop (ct state invalid drop) is no blocker (no
# warning); a forward-hook chain with policy drop in an inet table is one;
# with the foreign table gone natd is ready again and the NAT works.
# Usage: foreign-reject.sh PATH-TO-natd [PATH-TO-natd-ctl]   (root; exit 77 = skipped)
set -euo pipefail
# shellcheck source=tests/integration/drift-lib.sh
source "$(dirname "$0")/drift-lib.sh"

drift_init integration.foreign-reject "$@"
drift_vpc
drift_ready
check_egress " (before the foreign rule)"
mon_start
ctl_status 0
repairs0=$(sj_get repairs)

nft_ns() {
    ip netns exec "$NS_NAT" nft "$@"
}
# table_snapshot FAMILY NAME: the table as JSON, counters' values zeroed
# (traffic moves them), everything else (handles, policy, rules) as is.
table_snapshot() {
    nft_ns -j -a list table "$1" "$2" | $PY -c '
import json, sys
doc = json.load(sys.stdin)
def scrub(x):
    if isinstance(x, dict):
        return {k: (0 if k in ("packets", "bytes") else scrub(v)) for k, v in x.items()}
    if isinstance(x, list):
        return [scrub(v) for v in x]
    return x
print(json.dumps(scrub(doc["nftables"][1:]), sort_keys=True, indent=1))'
}

# --- the iptables-services-like REJECT -------------------------------------------
mon_drain
nft_ns add table ip filter
nft_ns add chain ip filter FORWARD '{ type filter hook forward priority 0; policy accept; }'
nft_ns add rule ip filter FORWARD counter reject
mon_must 5 "^[0-9]+ nft [0-9]+ nft NEWRULE:ip:filter:FORWARD$" "the foreign reject rule"
t_rule_ms=$((MON_US / 1000))
before=$(table_snapshot ip filter)
handle=$(nft_ns -a list chain ip filter FORWARD | grep -oE 'reject # handle [0-9]+' | grep -oE '[0-9]+$')
info "another program added: table ip filter, chain FORWARD (forward hook, policy accept), rule handle $handle: counter reject"

wait_until 5 state_is degraded "table ip filter chain FORWARD" ||
    fail "5s after the reject rule natd-ctl status is not degraded with a warning about table ip filter chain FORWARD: $WAIT_OUT"
t_degraded=$(notify_since "$t_rule_ms" 'STATUS=Degraded')
[[ -n $t_degraded ]] && timing "foreign reject rule added -> natd's STATUS=Degraded" $((t_degraded - t_rule_ms))
ctl_status 1
out=$($SJ expect reachable=true state='"degraded"' nftables.present=true nftables.verified=true \
    forwarding=true repairs="$repairs0" <<<"$CTL_OUT" 2>&1) || fail "with the reject rule: $out"$'\n'"$CTL_OUT"
warnings=$(sj_get warnings)
[[ $warnings == *"table ip filter chain FORWARD"* && $warnings == *reject* && $warnings == *"handle $handle"* ]] ||
    fail "the warning does not name table ip filter chain FORWARD, rule handle $handle, reject: $warnings"
status=$(sj_get status)
[[ $status == Degraded:* && $status == *"table ip filter chain FORWARD"* ]] ||
    fail "the status text does not say degraded because of table ip filter chain FORWARD: $status"
pass "natd-ctl status --json: exit 1, degraded, own table verified, repairs $repairs0; warnings $warnings"
natd_ctl_expect 1 "human status with the reject rule" status
{ grep -Eq '^ *State: degraded' <<<"$CTL_OUT" && grep -q 'table ip filter chain FORWARD' <<<"$CTL_OUT"; } ||
    fail "natd-ctl status does not show the degraded state and the warning:"$'\n'"$CTL_OUT"
pass "natd-ctl status: exit 1, shows State: degraded and the warning"
logline=$(grep -m1 "Foreign rule: table ip filter chain FORWARD rule handle $handle (reject)" "$T/natd.log") ||
    fail "natd's log has no warning about table ip filter chain FORWARD rule handle $handle:"$'\n'"$(tail -n 5 "$T/natd.log")"
[[ $logline == *warning:* ]] || fail "natd logged the foreign rule, but not as a warning: $logline"
pass "natd's log: ${logline#* * }"

# The rule really blocks NAT traffic (what the warning is about).
rc=0
out=$(ip netns exec "${PFX}h2" curl -sS --connect-timeout 2 --max-time 3 "http://$INET_IP/" 2>&1) || rc=$?
((rc != 0)) || fail "10.0.2.10 reached the internet ('$out') through a FORWARD chain that rejects everything"
pass "with the reject rule NAT traffic is blocked (curl exit $rc: $out)"

# natd did not edit table ip filter.
after=$(table_snapshot ip filter)
[[ $after == "$before" ]] ||
    fail "table ip filter changed while natd ran:"$'\n'"$(diff <(echo "$before") <(echo "$after"))"
n=$(nft_ns -a list chain ip filter FORWARD | grep -c 'counter packets [0-9]* bytes [0-9]* reject # handle' || true)
((n == 1)) || fail "chain FORWARD of table ip filter has $n reject rules:"$'\n'"$(nft_ns -a list table ip filter)"
pass "table ip filter is as the other program left it (chain FORWARD policy accept, rule handle $handle: counter reject)"

# --- a conditional drop is no blocker ---------------------------------------------
nft_ns delete rule ip filter FORWARD handle "$handle"
nft_ns add rule ip filter FORWARD ct state invalid counter drop
wait_until 5 state_is ready - ||
    fail "with only 'ct state invalid drop' in table ip filter chain FORWARD natd is not ready without warnings: $WAIT_OUT"
pass "'ct state invalid counter drop' is no blocker: ready, no warnings"
check_egress " (with a conditional drop in table ip filter)"

# --- policy drop in an inet table ---------------------------------------------------
nft_ns add table inet fw
nft_ns add chain inet fw fw_forward '{ type filter hook forward priority 10; policy drop; }'
wait_until 5 state_is degraded "table inet fw chain fw_forward" ||
    fail "with a forward-hook chain with policy drop in table inet fw natd is not degraded with a warning: $WAIT_OUT"
natd_ctl status --json
warnings=$(sj_get warnings)
[[ $warnings == *"policy drop"* ]] || fail "the warning about table inet fw chain fw_forward does not say policy drop: $warnings"
pass "policy drop in table inet fw chain fw_forward: degraded, warnings $warnings"
grep -q "Foreign rule: table inet fw chain fw_forward (forward hook) has policy drop" "$T/natd.log" ||
    fail "natd's log has no warning about table inet fw chain fw_forward"

# --- the blockers gone: ready again ---------------------------------------------
# (table ip filter now holds only the conditional drop: no blocker.)
now_ms t0
nft_ns delete table inet fw
wait_until 5 state_is ready - || fail "with the policy-drop chain gone natd is not ready without warnings: $WAIT_OUT"
t1=$(notify_since "$t0" 'STATUS=Ready')
[[ -n $t1 ]] && timing "last blocker deleted -> natd's STATUS=Ready" $((t1 - t0))
nft_ns delete table ip filter
natd_ctl_expect 0 "status with the foreign tables gone" status --json
[[ $(sj_get state) == ready && $(sj_get warnings) == '[]' ]] ||
    fail "with the foreign tables gone: state $(sj_get state), warnings $(sj_get warnings)"
pass "foreign tables deleted: natd-ctl status exit 0, ready, no warnings"
check_egress " (foreign tables gone)"

# Over the whole test: every nftables transaction of natd's process touched
# only table ip natd, and natd repaired nothing.
mon_drain
bad=$(grep -E "^[0-9]+ nft $NATD_PID " "$MON_LOG" | tr ' ' '\n' | grep -E '^[A-Z]+:' | grep -v ':ip:natd' || true)
[[ -z $bad ]] || fail "natd's own nftables transactions touched other tables: $(sort -u <<<"$bad" | tr '\n' ' ')"
ctl_status 0
[[ $(sj_get repairs) == "$repairs0" ]] || fail "natd counted repairs ($repairs0 -> $(sj_get repairs)) although nothing of its own was undone"
pass "natd's nftables transactions ($(grep -cE "^[0-9]+ nft $NATD_PID " "$MON_LOG" || true) during the test) touched only table ip natd; repairs still $repairs0"
